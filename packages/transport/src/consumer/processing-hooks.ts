/** Nest 12's `Server#setOnProcessingStartHook` hook: runs `done` (the handler) inside whatever scope it opens. */
type StartHook = (transportId: unknown, context: unknown, done: () => Promise<unknown>) => unknown;
/** Nest 12's `Server#setOnProcessingEndHook` hook: the handler's run (its replies included) is over. */
type EndHook = (transportId: unknown, context: unknown) => void;

/** Where the hooks are set: the server (Nest 12 declares these members on `Server`; Nest 11 has none). */
export interface ProcessingHookHost {
  readonly transportId?: unknown;
  readonly onProcessingStartHook?: StartHook;
  readonly onProcessingEndHook?: EndHook;
}

/**
 * Calls Nest 12's processing hooks around each handler run, as Nest's own transports do: the start hook gets
 * the context and a `done` that runs the handler; the end hook is called exactly once when the run is over
 * (success, throw, timeout's late end included), retries being runs of their own. The hooks are read from the
 * server on every run: Nest sets them after the server is built. On Nest 11, or with no hook set, the
 * handler is called directly (nothing allocated per entry).
 */
export class ProcessingHooks {
  /** Nest's default start hook (`done()` only), to tell it from one the application set. */
  private readonly defaultStart: StartHook | undefined;

  constructor(
    private readonly host: ProcessingHookHost,
    /** An end hook that threw: reported, never a handler failure (the handler's work is done). */
    private readonly onEndHookError: (err: unknown) => void,
  ) {
    this.defaultStart = host.onProcessingStartHook;
  }

  /** Whether an application set a hook: when not, a caller may call the handler itself (no closure per entry). */
  inUse(): boolean {
    const { onProcessingStartHook: start, onProcessingEndHook: end } = this.host;
    return !((start === undefined || start === this.defaultStart) && end === undefined);
  }

  run(context: unknown, handler: () => Promise<void>): Promise<void> {
    if (!this.inUse()) return handler();
    const start = this.host.onProcessingStartHook;
    return new Promise<void>((resolve, reject) => {
      let ran = false;
      let ended = false;
      const runEnd = () => {
        if (ended) return;
        ended = true;
        try {
          this.host.onProcessingEndHook?.(this.host.transportId, context);
        } catch (err) {
          this.onEndHookError(err);
        }
      };
      const done = (): Promise<void> => {
        // A hook calling done() twice must not run the handler twice.
        if (ran) return Promise.resolve();
        ran = true;
        const running = handler().finally(runEnd);
        running.then(resolve, reject);
        return running;
      };
      let started: unknown;
      try {
        started = start ? start.call(this.host, this.host.transportId, context, done) : done();
      } catch (err) {
        // The start hook threw before running the handler: the attempt failed (and is retried like any other).
        if (!ran) reject(err);
        return;
      }
      if (isPromiseLike(started)) {
        started.then(
          () => {
            if (!ran) reject(new Error('onProcessingStartHook settled without calling done(): the handler did not run'));
          },
          err => {
            if (!ran) reject(err);
          },
        );
      }
    });
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
