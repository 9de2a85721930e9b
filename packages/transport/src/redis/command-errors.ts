import { PermissionError } from '../errors/permission.error.js';
import { RedisCommandError } from '../errors/redis-command.error.js';

/**
 * Redis refused the command for lack of an ACL permission: NOPERM for a command sent directly, and the text a
 * script's redis.call() gets instead ("The user executing the script can't ...").
 */
export function isPermissionDenied(err: unknown): boolean {
  const message = (err as Error)?.message;
  if (typeof message !== 'string') return false;
  return message.startsWith('NOPERM') || message.includes('NOPERM ') || message.includes("user executing the script can't");
}

/**
 * The error to surface for a command that failed: a PermissionError for an ACL denial, a RedisCommandError
 * for any other error reply (both naming the command and the key). Errors that are not Redis replies
 * (connection closed, a timeout) are returned as they are.
 */
export function commandError(err: unknown, command: string, key: string): unknown {
  if (err instanceof RedisCommandError || err instanceof PermissionError) return err;
  // A NOPERM names the command Redis refused (EVALSHA rather than the XADD a script would run).
  if (isPermissionDenied(err)) return new PermissionError([{ command: deniedCommand((err as Error).message) ?? command, key }], err);
  if ((err as { name?: string })?.name === 'ReplyError') return new RedisCommandError(command, key, err);
  return err;
}

/** What a MULTI/EXEC transaction ran, step by step: the command and its key, for the error of a failed step. */
export interface TransactionStep {
  command: string;
  key: string;
}

/**
 * Awaits a MULTI/EXEC (ioredis `multi().exec()`) and checks every result: a transaction discarded by Redis
 * (EXECABORT: a command refused when queued, e.g. NOPERM) and a command that failed inside EXEC (e.g.
 * WRONGTYPE; the other commands of the transaction still ran) both throw, naming the step's command and key.
 */
export async function execChecked(exec: Promise<Array<[Error | null, unknown]> | null>, steps: TransactionStep[]): Promise<unknown[]> {
  let results: Array<[Error | null, unknown]> | null;
  try {
    results = await exec;
  } catch (err) {
    // EXECABORT carries the errors of the refused commands; ioredis tags each with the command it answered.
    const refused = (err as { previousErrors?: Array<Error & { command?: { name: string; args: unknown[] } }> }).previousErrors ?? [];
    const denied = refused.filter(isPermissionDenied).map(e => stepOf(e, steps));
    if (isPermissionDenied(err)) {
      // EXEC itself refused ("EXECABORT ... NOPERM ... 'exec' command"): no key involved.
      denied.push({ command: deniedCommand((err as Error).message) ?? 'EXEC', key: '' });
    }
    if (denied.length > 0) throw new PermissionError(denied, err);
    const first = refused[0];
    if (first) {
      const step = stepOf(first, steps);
      throw new RedisCommandError(step.command, step.key, first);
    }
    throw err;
  }
  if (!results) throw new Error(`MULTI/EXEC (${steps.map(s => s.command).join(', ')}) was discarded`);
  for (let i = 0; i < results.length; i++) {
    const [err] = results[i];
    if (err) throw commandError(err, steps[i]?.command ?? 'EXEC', steps[i]?.key ?? '');
  }
  return results.map(r => r[1]);
}

/** The command a NOPERM reply names ("no permissions to run the 'xgroup|create' command"), as `XGROUP CREATE`. */
export function deniedCommand(message: string): string | undefined {
  const match = /run the '([^']+)' command/.exec(message);
  return match ? match[1].toUpperCase().replace('|', ' ') : undefined;
}

/** The step a refused command belongs to, by its name and first argument (the key, for the commands used here). */
function stepOf(err: Error & { command?: { name: string; args: unknown[] } }, steps: TransactionStep[]): TransactionStep {
  const name = err.command?.name?.toUpperCase();
  const key = err.command?.args?.[0];
  return (
    steps.find(s => s.command.split(' ')[0] === name && s.key === key) ??
    steps.find(s => s.command.split(' ')[0] === name) ?? { command: name ?? 'MULTI', key: typeof key === 'string' ? key : '' }
  );
}
