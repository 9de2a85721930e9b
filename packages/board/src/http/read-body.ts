import type { IncomingMessage } from 'node:http';
import { BoardRequestError } from '../board-request.error.js';

/** Writes carry a few ids at most: anything larger is refused before it is read whole. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The JSON object a write sent. Express (in a Nest app) may have parsed it already (`req.body`); otherwise
 * (Fastify middleware, the standalone server) the stream is read here.
 */
export async function readJsonBody(req: IncomingMessage & { body?: unknown }): Promise<Record<string, unknown>> {
  let value: unknown = req.body;
  if (value === undefined || Buffer.isBuffer(value) || typeof value === 'string') {
    let text = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : '';
    if (req.body === undefined && !req.readableEnded) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) throw new BoardRequestError(413, `request body over ${MAX_BODY_BYTES} bytes`);
        chunks.push(chunk as Buffer);
      }
      text = Buffer.concat(chunks).toString('utf8');
    }
    if (text.length > MAX_BODY_BYTES) throw new BoardRequestError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    try {
      value = JSON.parse(text || 'null');
    } catch {
      throw new BoardRequestError(400, 'the request body is not valid JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BoardRequestError(400, 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}
