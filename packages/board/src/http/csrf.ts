import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The cookie holding the page's CSRF token (HttpOnly: the page reads its copy from a meta tag). */
export const CSRF_COOKIE = 'nestream_board_csrf';
/** The header every write must carry, equal to the cookie (double submit). */
export const CSRF_HEADER = 'x-nestream-csrf';

export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The request's CSRF cookie, when it holds a well-formed token. */
export function csrfCookie(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === CSRF_COOKIE && value && /^[A-Za-z0-9_-]{43}$/.test(value)) return value;
  }
  return undefined;
}

/**
 * Why a write must be refused, or undefined when it may go on. A cross-site page can neither read the token
 * (the page is same-origin only) nor send a custom header without a CORS preflight the board never grants;
 * the Origin check and the JSON content type are a second line.
 */
export function csrfProblem(req: IncomingMessage): string | undefined {
  const cookie = csrfCookie(req);
  const header = req.headers[CSRF_HEADER];
  if (!cookie || typeof header !== 'string') return 'missing CSRF token: reload the board';
  const a = Buffer.from(cookie);
  const b = Buffer.from(header);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'bad CSRF token: reload the board';
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'bad Origin header';
    }
    if (host !== req.headers.host) return 'cross-origin write refused';
  } else if (origin === 'null') {
    return 'cross-origin write refused';
  }
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return 'writes must be sent as application/json';
  return undefined;
}
