/**
 * PGlite is one Postgres backend: one session for every client connection. This lock hands that session to one
 * connection at a time, first come first served, and the owner keeps it for as long as it needs it (a statement,
 * or a whole transaction).
 */
export class SessionLock<Owner> {
  private owner: Owner | undefined;
  private readonly waiting: Array<{ owner: Owner; grant: () => void }> = [];

  /** Resolves once `owner` holds the session (at once if it already does). */
  acquire(owner: Owner): Promise<void> {
    if (this.owner === owner) return Promise.resolve();
    if (this.owner === undefined) {
      this.owner = owner;
      return Promise.resolve();
    }
    return new Promise(grant => this.waiting.push({ owner, grant }));
  }

  /** Hands the session to the next connection waiting, if `owner` holds it. */
  release(owner: Owner): void {
    if (this.owner !== owner) return;
    const next = this.waiting.shift();
    this.owner = next?.owner;
    next?.grant();
  }

  holds(owner: Owner): boolean {
    return this.owner === owner;
  }

  /** Forgets a connection that went away while waiting. */
  forget(owner: Owner): void {
    const index = this.waiting.findIndex(w => w.owner === owner);
    if (index >= 0) this.waiting.splice(index, 1);
  }
}
