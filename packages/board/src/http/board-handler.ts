import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BoardApi } from '../board-api.js';
import type { BoardAction, ResolvedBoardOptions } from '../board-options.js';
import { BoardRequestError } from '../board-request.error.js';
import { readAsset } from './assets.js';
import { describeError } from './describe-error.js';
import { CSRF_COOKIE, csrfCookie, csrfProblem, newCsrfToken } from './csrf.js';
import { renderPage } from './page.js';
import { readJsonBody } from './read-body.js';
import { securityHeaders, sendError, sendJson } from './responses.js';
import { TailStreams } from './tail-streams.js';

/** A request as Express and Fastify middleware see it: Node's, maybe with a parsed body and the full URL. */
export type BoardRequest = IncomingMessage & { body?: unknown; originalUrl?: string };

/** Node-style handler; `next` is called for paths outside the board (in a Nest app, another route's). */
export type BoardHandler = (req: BoardRequest, res: ServerResponse, next?: (err?: unknown) => void) => void;

type Query = URLSearchParams;
type Read = (q: Query, req: BoardRequest, res: ServerResponse) => Promise<unknown>;
type Write = (body: Record<string, unknown>) => Promise<unknown>;

/** Builds the board's handler: the page, its assets, the JSON API and the live tail, under `basePath`. */
export function createBoardHandler(api: BoardApi, tails: TailStreams, options: ResolvedBoardOptions, onError: (err: unknown) => void): BoardHandler {
  const reads: Record<string, Read> = {
    overview: async () => api.overview(),
    stream: async q => api.stream(required(q, 'stream')),
    entries: async q => api.entries(required(q, 'stream'), { before: optional(q, 'before'), count: int(q, 'count'), text: optional(q, 'q') }),
    group: async q => api.group(required(q, 'stream'), required(q, 'group'), { after: optional(q, 'after'), count: int(q, 'count') }),
    'dead-letters': async q =>
      api.deadLetters(required(q, 'stream'), { before: optional(q, 'before'), count: int(q, 'count'), text: optional(q, 'q'), reason: optional(q, 'reason') }),
    'dead-letter': async q => api.deadLetter(required(q, 'stream'), required(q, 'id')),
    'redrive-job': async q => api.redriveJob(required(q, 'id')),
    scheduled: async q => api.scheduled(required(q, 'stream'), { offset: int(q, 'offset'), count: int(q, 'count') }),
  };
  const writes: Record<string, Write> = {
    redrive: b => api.redrive({ stream: str(b, 'stream'), ids: b.ids as string[] | undefined, all: b.all === true, reason: optStr(b, 'reason') }),
    'purge-count': b => api.purgeCount({ stream: str(b, 'stream'), reason: optStr(b, 'reason') }),
    purge: b => api.purge({ stream: str(b, 'stream'), reason: optStr(b, 'reason'), upTo: optStr(b, 'upTo'), confirm: optStr(b, 'confirm') }),
    prune: b => api.prune({ stream: str(b, 'stream'), group: str(b, 'group'), idleMs: num(b, 'idleMs') }),
    'cancel-scheduled': b => api.cancelScheduled({ stream: str(b, 'stream'), ids: b.ids }),
  };

  const allowed = async (req: BoardRequest, action: BoardAction) => !options.authorize || (await options.authorize(req, action)) === true;

  const handle = async (req: BoardRequest, res: ServerResponse, mount: string, path: string, query: Query): Promise<void> => {
    const method = req.method ?? 'GET';
    if (path === '/' || path === '') {
      if (method !== 'GET' && method !== 'HEAD') return sendError(res, 405, 'method not allowed');
      if (!(await allowed(req, 'read'))) return sendError(res, 403, 'not allowed');
      const token = csrfCookie(req) ?? newCsrfToken();
      securityHeaders(res);
      res.setHeader('Set-Cookie', `${CSRF_COOKIE}=${token}; Path=${mount || '/'}; HttpOnly; SameSite=Strict`);
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.end(renderPage({ basePath: mount, csrfToken: token, writes: options.allowWrites }));
      return;
    }
    if (path.startsWith('/assets/')) {
      const asset = readAsset(path.slice('/assets/'.length));
      if (!asset) return sendError(res, 404, 'not found');
      securityHeaders(res);
      res.setHeader('Content-Type', asset.type);
      res.setHeader('Cache-Control', 'no-cache');
      res.end(asset.body);
      return;
    }
    const name = path.startsWith('/api/') ? path.slice('/api/'.length) : undefined;
    if (name === undefined) return sendError(res, 404, 'not found');
    if (name === 'tail') {
      if (method !== 'GET') return sendError(res, 405, 'method not allowed');
      if (!(await allowed(req, 'read'))) return sendError(res, 403, 'not allowed');
      return tails.openTail(required(query, 'stream'), req, res);
    }
    const read = Object.hasOwn(reads, name) ? reads[name] : undefined;
    if (read) {
      if (method !== 'GET') return sendError(res, 405, 'method not allowed');
      if (!(await allowed(req, 'read'))) return sendError(res, 403, 'not allowed');
      return sendJson(res, 200, await read(query, req, res));
    }
    const write = Object.hasOwn(writes, name) ? writes[name] : undefined;
    if (write) {
      if (method !== 'POST') return sendError(res, 405, 'method not allowed');
      if (!options.allowWrites) return sendError(res, 403, 'the board is read-only (start it with writes allowed to redrive, purge, prune or cancel delayed emits)');
      const problem = csrfProblem(req);
      if (problem) return sendError(res, 403, problem);
      if (!(await allowed(req, 'write'))) return sendError(res, 403, 'not allowed');
      return sendJson(res, 200, await write(await readJsonBody(req)));
    }
    return sendError(res, 404, 'not found');
  };

  return (req, res, next) => {
    const url = new URL(req.originalUrl ?? req.url ?? '/', 'http://board.invalid');
    const mount = mountPath(url.pathname, options.basePath, next !== undefined);
    if (mount === undefined) {
      if (next) next();
      else sendError(res, 404, 'not found');
      return;
    }
    const path = url.pathname.slice(mount.length);
    // In an app, paths under the board that are not its own go on to the app's routes (a board at '/').
    if (next && path !== '' && path !== '/' && !path.startsWith('/assets/') && !path.startsWith('/api/')) {
      next();
      return;
    }
    if (options.allowedHosts && !options.allowedHosts.has(hostName(req.headers.host))) {
      sendError(res, 421, 'unexpected Host header (see the allowedHosts option)');
      return;
    }
    handle(req, res, mount, path, url.searchParams).catch(err => {
      const [status, message] = describeError(err);
      if (status >= 500) onError(err);
      if (res.headersSent) res.end();
      else sendError(res, status, message);
    });
  };
}

/**
 * Where the board is mounted for this request: `basePath`, or (as middleware in an app with a global prefix,
 * which the app puts in front of every route) the prefix and `basePath`. Undefined when the path is not the board's.
 */
function mountPath(pathname: string, base: string, inApp: boolean): string | undefined {
  if (pathname === base || pathname.startsWith(`${base}/`)) return base;
  if (!inApp || base === '') return undefined;
  const at = pathname.endsWith(base) ? pathname.length - base.length : pathname.indexOf(`${base}/`);
  return at > 0 ? pathname.slice(0, at + base.length) : undefined;
}

/** The host name of a Host header: no port, no IPv6 brackets, lower case. */
function hostName(header: string | undefined): string {
  const host = (header ?? '').toLowerCase();
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name;
}

function required(q: Query, name: string): string {
  const value = q.get(name);
  if (value === null || value === '') throw new BoardRequestError(400, `missing query parameter "${name}"`);
  return value;
}

function optional(q: Query, name: string): string | undefined {
  const value = q.get(name);
  return value === null || value === '' ? undefined : value;
}

function int(q: Query, name: string): number | undefined {
  const value = optional(q, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,6}$/.test(value)) throw new BoardRequestError(400, `"${name}" must be a positive integer`);
  return Number(value);
}

function str(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw new BoardRequestError(400, `"${name}" must be a non-empty string`);
  return value;
}

function optStr(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new BoardRequestError(400, `"${name}" must be a string`);
  return value;
}

function num(body: Record<string, unknown>, name: string): number {
  const value = body[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new BoardRequestError(400, `"${name}" must be a number`);
  return value;
}
