import { startStreamsBoard, type RunningBoard, type StandaloneBoardOptions } from '@nestream/board/standalone';

/** A board started by a test on a free port, closed after the test (no background server left). */
const running: RunningBoard[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(b => b.close()));
});

export async function startBoard(options: StandaloneBoardOptions): Promise<RunningBoard> {
  const board = await startStreamsBoard({ port: 0, overviewCacheMs: 0, ...options });
  running.push(board);
  return board;
}

/** What a browser holds after loading the page: the CSRF cookie and the token from the page's meta tag. */
export interface BoardSession {
  cookie: string;
  token: string;
  page: string;
}

export async function openSession(url: string): Promise<BoardSession> {
  const res = await fetch(url);
  const page = await res.text();
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  const token = /name="nestream-board-csrf" content="([^"]+)"/.exec(page)?.[1] ?? '';
  return { cookie, token, page };
}

/** A write as the board's page sends it (JSON, CSRF header and cookie, same origin). */
export async function post(url: string, session: BoardSession | undefined, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(session ? { cookie: session.cookie, 'x-nestream-csrf': session.token } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

export async function getJson(url: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json(), headers: res.headers };
}
