import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { SessionLock } from './session-lock.js';
import { WireConnection } from './wire-connection.js';

export interface EmbeddedPostgresOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** Where PGlite keeps its files; in memory when absent. @default undefined */
  dataDir?: string;
}

/**
 * Postgres (PGlite, Postgres compiled to WebAssembly) served over the Postgres wire protocol on 127.0.0.1, so the
 * services connect with `pg` and TypeORM exactly as to a Postgres server. For the demo and the tests on a machine
 * without Postgres; not for production.
 *
 * What differs from a Postgres server: one backend serves every connection, one transaction at a time (so there is
 * never lock contention, and `SKIP LOCKED` never skips), and session state is shared: a `SET`, a session advisory
 * lock or a named prepared statement of one connection is seen by all. The sample uses none of these.
 */
export class EmbeddedPostgres {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private listeningPort = 0;

  private constructor(private readonly db: PGlite) {
    const lock = new SessionLock<WireConnection>();
    this.server = createServer(socket => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      new WireConnection(socket, db, lock);
    });
  }

  static async start(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
    const db = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
    const embedded = new EmbeddedPostgres(db);
    await embedded.listen(options.port ?? 0);
    return embedded;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** The DATABASE_URL of the services. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Closes every connection, then the database. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
    await this.db.close();
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.listeningPort = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }
}
