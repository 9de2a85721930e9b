import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StreamsAdmin, TailEntry } from '@nestream/transport/admin';
import { describeError } from './describe-error.js';
import { securityHeaders, sendError } from './responses.js';

/** A comment line this often keeps proxies from closing an idle event stream. */
const KEEP_ALIVE_MS = 15_000;

/**
 * Live tails as server-sent events: `ready` once following, `entry` per new entry, `failure` when it stops.
 * Each holds one Redis connection (a blocked XREAD), so at most `max` run at once; a closed page stops its tail.
 */
export class TailStreams {
  private readonly open = new Set<AbortController>();

  constructor(
    private readonly admin: StreamsAdmin,
    private readonly max: number,
  ) {}

  async openTail(stream: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.open.size >= this.max) return sendError(res, 429, `${this.max} live tails are open already: close one first`);
    const stop = new AbortController();
    this.open.add(stop);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    // The response closes when the client goes away (the request's own 'close' says only that its body was read).
    res.on('close', () => stop.abort());
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    try {
      const onStart = () => {
        securityHeaders(res);
        res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
        send('ready', { stream });
      };
      for await (const entry of this.admin.tail([stream], { signal: stop.signal, onStart })) send('entry', entryJson(entry));
    } catch (err) {
      const [status, message] = describeError(err);
      if (res.headersSent) send('failure', { error: message });
      else sendError(res, status, message);
    } finally {
      clearInterval(keepAlive);
      this.open.delete(stop);
      res.end();
    }
  }

  closeAll(): void {
    for (const stop of this.open) stop.abort();
  }
}

function entryJson(e: TailEntry) {
  return { id: e.id, fields: e.fields, message: e.message, decodeError: e.decodeError };
}
