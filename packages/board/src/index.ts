export { StreamsBoardModule, STREAMS_BOARD_OPTIONS, type StreamsBoardAsyncOptions } from './streams-board.module.js';
export { StreamsBoard } from './streams-board.js';
export { startStreamsBoard, type StandaloneBoardOptions, type RunningBoard } from './standalone.js';
export { DEFAULT_BOARD_OPTIONS, type StreamsBoardOptions, type BoardAuthorize, type BoardAction } from './board-options.js';
export type { Overview, OverviewRow, OverviewGroup } from './overview.js';
export type { BoardHandler, BoardRequest } from './http/board-handler.js';
