import { InvalidArgumentError, type Command } from 'commander';
import { startStreamsBoard } from '@nestream/board/standalone';
import { CliError } from '../cli-error.js';
import { CLI_REDIS_OPTIONS, resolveTarget, type GlobalOptions } from '../connection.js';
import { printLines, note } from '../output.js';
import { withAdmin } from '../session.js';

interface BoardOptions {
  port: number;
  host: string;
  allowWrites?: boolean;
  allowedHost?: string[];
}

/**
 * A board runs for hours: unlike a one-shot command it reconnects when Redis goes away (each page request
 * still fails fast while Redis is down, after one retry).
 */
const BOARD_REDIS_OPTIONS = { ...CLI_REDIS_OPTIONS, retryStrategy: (times: number) => Math.min(times * 200, 2000), maxRetriesPerRequest: 1 };

export function registerBoard(program: Command): void {
  program
    .command('board')
    .description('serve the web board (streams, groups, pending lists, dead letters, live tail) until Ctrl-C')
    .option('--port <port>', 'HTTP port (0: any free one)', parsePort, 8080)
    .option('--host <host>', 'interface to listen on (the board has no login: keep it on loopback or behind your proxy)', '127.0.0.1')
    .option('--allow-writes', 'allow redrive, purge, consumer prune and cancelling delayed emits from the board (read-only otherwise)')
    .option('--allowed-host <names...>', 'host names the board answers to (default on loopback: localhost, 127.0.0.1, ::1; elsewhere: any)')
    .action(async (opts: BoardOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      // Fail now, with the CLI's one-line reason, when Redis cannot be reached.
      await withAdmin(globals, async () => undefined);
      const target = resolveTarget(globals);
      let board;
      try {
        board = await startStreamsBoard({
          ...target.admin,
          redisOptions: BOARD_REDIS_OPTIONS,
          basePath: '/',
          port: opts.port,
          host: opts.host,
          allowWrites: opts.allowWrites ?? false,
          allowedHosts: opts.allowedHost,
        });
      } catch (err) {
        throw new CliError(`cannot serve the board on ${opts.host}:${opts.port}: ${(err as Error).message}`);
      }
      printLines([board.url]);
      note(`nestream board for ${target.description}, ${opts.allowWrites ? 'writes ALLOWED (redrive, purge, prune)' : 'read-only'}; Ctrl-C to stop`);
      await new Promise(resolve => process.once('SIGINT', resolve).once('SIGTERM', resolve));
      await board.close();
    });
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return n;
}
