import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StreamsBoardOptions } from './board-options.js';
import { StreamsBoard } from './streams-board.js';

export interface StandaloneBoardOptions extends StreamsBoardOptions {
  /** TCP port; 0 picks a free one. @default 8080 */
  port?: number;
  /** Interface to listen on: loopback only unless told otherwise (the board has no login of its own). @default '127.0.0.1' */
  host?: string;
}

export interface RunningBoard {
  /** Where the board is, e.g. http://127.0.0.1:8080/board (no Redis details). */
  url: string;
  port: number;
  server: Server;
  board: StreamsBoard;
  close(): Promise<void>;
}

/** Serves the board on an HTTP server of its own (what `nestream board` runs); no Nest app needed. */
export async function startStreamsBoard(options: StandaloneBoardOptions = {}): Promise<RunningBoard> {
  const { port = 8080, host = '127.0.0.1', ...boardOptions } = options;
  // On loopback only local pages should reach the board: a page of another site whose name was made to resolve to
  // 127.0.0.1 (DNS rebinding) would otherwise be same-origin with it.
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  const board = new StreamsBoard({ ...boardOptions, allowedHosts: boardOptions.allowedHosts ?? (loopback ? ['localhost', '127.0.0.1', '::1'] : undefined) });
  const server = createServer((req, res) => board.handler(req, res));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await board.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}${board.options.basePath}/`,
    port: address.port,
    server,
    board,
    close() {
      closed ??= (async () => {
        await board.close();
        server.closeAllConnections();
        await new Promise<void>(resolve => server.close(() => resolve()));
      })();
      return closed;
    },
  };
}

export { StreamsBoard } from './streams-board.js';
export type { StreamsBoardOptions, BoardAuthorize, BoardAction } from './board-options.js';
