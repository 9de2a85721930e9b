import type { IncomingMessage } from 'node:http';
import type { StreamsAdminOptions } from '@nestream/transport/admin';

/** What a request asks to do: look (every GET) or change something (redrive, purge, prune, cancel a delayed emit). */
export type BoardAction = 'read' | 'write';

/**
 * Decides whether a request may do `action`. Runs on every API request, after the board's own checks (writes
 * enabled, CSRF token). Return false to answer 403.
 */
export type BoardAuthorize = (req: IncomingMessage, action: BoardAction) => boolean | Promise<boolean>;

/** Options of the board: where its Redis is (as `StreamsAdmin`'s), where it is served and what it allows. */
export interface StreamsBoardOptions extends StreamsAdminOptions {
  /** URL path the board is served under. @default '/board' */
  basePath?: string;
  /** Redrive, purge, prune and cancelling delayed emits are refused (403) unless this is true. @default false */
  allowWrites?: boolean;
  /** Called for every API request (reads and writes); without it, anyone who reaches the board may read. @default undefined */
  authorize?: BoardAuthorize;
  /** How long one overview reading is shared by every open board (bounds Redis work, whatever the number of viewers). @default 1000 */
  overviewCacheMs?: number;
  /** Live tails (SSE, each one Redis connection) open at once; more are refused (429). @default 8 */
  maxTails?: number;
  /**
   * Host names (of the Host header, without port) the board answers to; others get 421. Stops DNS rebinding
   * (a web page whose name resolves to your board). @default undefined (any; the standalone server on
   * loopback sets localhost, 127.0.0.1 and ::1)
   */
  allowedHosts?: string[];
}

export interface ResolvedBoardOptions {
  admin: StreamsAdminOptions;
  basePath: string;
  allowWrites: boolean;
  authorize: BoardAuthorize | undefined;
  overviewCacheMs: number;
  maxTails: number;
  allowedHosts: Set<string> | undefined;
}

export const DEFAULT_BOARD_OPTIONS = {
  basePath: '/board',
  allowWrites: false,
  overviewCacheMs: 1000,
  maxTails: 8,
};

/** Merges the defaults and checks every option once, naming the one that is wrong. */
export function resolveBoardOptions(options: StreamsBoardOptions = {}): ResolvedBoardOptions {
  const { basePath: rawBase, allowWrites, authorize, overviewCacheMs, maxTails, allowedHosts, ...admin } = options;
  if (allowedHosts !== undefined && (!Array.isArray(allowedHosts) || !allowedHosts.every(h => typeof h === 'string' && h !== ''))) {
    throw new TypeError('StreamsBoard: allowedHosts must be a list of host names');
  }
  const basePath = normaliseBasePath(rawBase ?? DEFAULT_BOARD_OPTIONS.basePath);
  if (allowWrites !== undefined && typeof allowWrites !== 'boolean') throw new TypeError(`StreamsBoard: allowWrites must be a boolean, got ${JSON.stringify(allowWrites)}`);
  if (authorize !== undefined && typeof authorize !== 'function') throw new TypeError('StreamsBoard: authorize must be a function (req, action) => boolean | Promise<boolean>');
  const cacheMs = overviewCacheMs ?? DEFAULT_BOARD_OPTIONS.overviewCacheMs;
  if (!Number.isInteger(cacheMs) || cacheMs < 0) throw new TypeError(`StreamsBoard: overviewCacheMs must be an integer >= 0, got ${cacheMs}`);
  const tails = maxTails ?? DEFAULT_BOARD_OPTIONS.maxTails;
  if (!Number.isInteger(tails) || tails < 0) throw new TypeError(`StreamsBoard: maxTails must be an integer >= 0, got ${tails}`);
  return { admin, basePath, allowWrites: allowWrites ?? false, authorize, overviewCacheMs: cacheMs, maxTails: tails,
    allowedHosts: allowedHosts && new Set(allowedHosts.map(h => h.toLowerCase().replace(/^\[|\]$/g, ''))),
  };
}

/** `board`, `/board/` and `/board` are the same: a leading slash, no trailing one ('' for the root). */
function normaliseBasePath(path: string): string {
  if (typeof path !== 'string' || !/^\/?[A-Za-z0-9._~\-/]*$/.test(path)) {
    throw new TypeError(`StreamsBoard: basePath must be a URL path of letters, digits and . _ ~ - /, got ${JSON.stringify(path)}`);
  }
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `/${trimmed}`;
}
