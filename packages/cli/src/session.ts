import { isClusterConnection, StreamsAdmin, StreamsAdminError, type StreamsAdminOptions } from '@nestream/transport/admin';
import { CliError, EXIT_USAGE } from './cli-error.js';
import { note } from './output.js';
import { clusterTarget, resolveTarget, type GlobalOptions, type Target } from './connection.js';

/** Connecting gives up after this long, whatever ioredis is doing (a host that accepts and never answers). */
const CONNECT_DEADLINE_MS = 5000;

/**
 * Runs a command with a connected StreamsAdmin, closed afterwards. Every failure becomes a CliError:
 * one line for the operator, never a stack trace. A URL naming one node of a Redis Cluster is read as the
 * cluster (said on stderr): one node alone holds only its slots' streams, and the others answer MOVED.
 */
export async function withAdmin<T>(
  options: GlobalOptions,
  run: (admin: StreamsAdmin, target: Target) => Promise<T>,
  redisOptions: StreamsAdminOptions['redisOptions'] = {},
): Promise<T> {
  let target = resolveTarget(options);
  const open = (t: Target) => new StreamsAdmin({ ...t.admin, redisOptions: { ...t.admin.redisOptions, ...redisOptions } });
  let admin = open(target);
  try {
    await connect(admin, target);
    if (!isClusterConnection(target.admin.connection!) && (await admin.isLoneClusterNode())) {
      const cluster = clusterTarget(target);
      note(`nestream: ${target.description} is a node of a Redis Cluster: reading the whole cluster (--cluster says so up front)`);
      await admin.close();
      [target, admin] = [cluster, open(cluster)];
      await connect(admin, target);
    }
    return await run(admin, target);
  } catch (err) {
    throw toCliError(err, target);
  } finally {
    await admin.close();
  }
}

async function connect(admin: StreamsAdmin, target: Target): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CliError(`no answer from Redis at ${target.description} within ${CONNECT_DEADLINE_MS / 1000} s`)), CONNECT_DEADLINE_MS);
  });
  try {
    await Promise.race([admin.connect(), deadline]);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot connect to Redis at ${target.description}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** The one line an error is reported as. */
export function toCliError(err: unknown, target: Target): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof StreamsAdminError) return new CliError(err.message, err.code === 'bad-id' || err.code === 'bad-option' ? EXIT_USAGE : undefined);
  const message = (err as Error)?.message ?? String(err);
  if (message === 'Command timed out') return new CliError(`Redis at ${target.description} did not answer in time`);
  // Commands issued while ioredis is between connections (status --watch across a Redis restart).
  if (message === 'Connection is closed.' || (err as Error)?.name === 'MaxRetriesPerRequestError') {
    return new CliError(`lost the connection to Redis at ${target.description}`);
  }
  // Only when INFO is not allowed (no cluster check): a key on another node of a cluster.
  if ((err as Error)?.name === 'ReplyError' && /^(MOVED|ASK|CROSSSLOT) /.test(message) && !isClusterConnection(target.admin.connection!)) {
    return new CliError(`Redis refused: ${message} (${target.description} is a node of a Redis Cluster: pass --cluster)`);
  }
  if ((err as Error)?.name === 'ReplyError') return new CliError(`Redis refused: ${message}`);
  return new CliError(message);
}
