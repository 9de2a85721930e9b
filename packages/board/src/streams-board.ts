import { BoardApi } from './board-api.js';
import { resolveBoardOptions, type ResolvedBoardOptions, type StreamsBoardOptions } from './board-options.js';
import { createBoardHandler, type BoardHandler } from './http/board-handler.js';
import { TailStreams } from './http/tail-streams.js';

/**
 * The board, independent of any HTTP framework: `handler` serves it under `basePath` (a Node request
 * handler, also usable as Express or Connect middleware); `close()` ends live tails and the Redis connection.
 * `StreamsBoardModule` mounts it in a Nest app, `startStreamsBoard()` on a server of its own.
 */
export class StreamsBoard {
  readonly options: ResolvedBoardOptions;
  readonly handler: BoardHandler;
  private readonly api: BoardApi;
  private readonly tails: TailStreams;

  constructor(options: StreamsBoardOptions, onError: (err: unknown) => void = err => console.error('nestream board:', err)) {
    this.options = resolveBoardOptions(options);
    this.api = new BoardApi(this.options);
    this.tails = new TailStreams(this.api.admin, this.options.maxTails);
    this.handler = createBoardHandler(this.api, this.tails, this.options, onError);
  }

  async close(): Promise<void> {
    this.tails.closeAll();
    await this.api.close();
  }
}
