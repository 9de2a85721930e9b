import type { Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import type { SessionLock } from './session-lock.js';

/** Codes of the untyped messages a client may send first (Postgres protocol 3.0). */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/** One framed client message: its type byte (undefined for the startup message) and its bytes. */
interface Message {
  type: string | undefined;
  bytes: Buffer;
}

/**
 * One client connection. Splits the byte stream into protocol messages and runs them in order on the shared PGlite
 * session, holding the session lock from its first message until Postgres is idle again: after a Sync or a simple
 * Query, outside a transaction block. So the messages of one extended-protocol query (Parse, Bind, Execute, Sync)
 * and every statement of a transaction run with no other connection's message in between.
 * (@electric-sql/pglite-socket interleaves messages of different connections, which breaks concurrent clients.)
 */
export class WireConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  private readonly queue: Message[] = [];
  private running = false;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly db: PGlite,
    private readonly lock: SessionLock<WireConnection>,
  ) {
    socket.setNoDelay(true);
    socket.on('data', chunk => this.receive(chunk));
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const message = this.started ? this.takeTypedMessage() : this.takeStartupMessage();
      if (message === 'incomplete') break;
      if (message === 'handled') continue;
      this.queue.push(message);
    }
    void this.pump();
  }

  private takeStartupMessage(): Message | 'incomplete' | 'handled' {
    if (this.buffer.length < 8) return 'incomplete';
    const length = this.buffer.readInt32BE(0);
    if (this.buffer.length < length) return 'incomplete';
    const code = this.buffer.readInt32BE(4);
    const bytes = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.socket.write('N'); // no encryption: the client goes on in plain text
      return 'handled';
    }
    if (code === CANCEL_REQUEST) {
      this.socket.end(); // nothing to cancel: statements run to completion
      return 'handled';
    }
    this.started = true;
    return { type: undefined, bytes };
  }

  private takeTypedMessage(): Message | 'incomplete' {
    if (this.buffer.length < 5) return 'incomplete';
    const length = 1 + this.buffer.readInt32BE(1);
    if (this.buffer.length < length) return 'incomplete';
    const bytes = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return { type: String.fromCharCode(bytes[0]!), bytes };
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const message = this.queue.shift()!;
        if (message.type === 'X') {
          // Terminate: end this connection only (the session, and the database, stay for the others).
          this.socket.end();
          break;
        }
        await this.lock.acquire(this);
        if (this.closed) break;
        await this.db.runExclusive(() =>
          this.db.execProtocolRawStream(new Uint8Array(message.bytes), {
            onRawData: data => {
              if (!this.socket.destroyed) this.socket.write(data);
            },
          }),
        );
        const boundary = message.type === undefined || message.type === 'S' || message.type === 'Q';
        if (boundary && !this.db.isInTransaction()) this.lock.release(this);
      }
    } catch (err) {
      this.socket.destroy(err as Error);
    } finally {
      this.running = false;
    }
    if (this.closed) await this.rollBackIfOwner();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lock.forget(this);
    if (!this.running) void this.rollBackIfOwner();
  }

  /** A client gone in the middle of a transaction: roll it back and free the session for the others. */
  private async rollBackIfOwner(): Promise<void> {
    if (!this.lock.holds(this)) return;
    try {
      // exec() takes PGlite's own lock itself (runExclusive around it would wait for itself forever).
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    } finally {
      this.lock.release(this);
    }
  }
}
