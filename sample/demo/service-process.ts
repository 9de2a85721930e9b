import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ServiceLog } from './service-log.js';

/** One service of the sample, run as `node sample/dist/apps/<app>/src/main.js`. */
export interface ServiceSpec {
  /** Name in logs and summaries, e.g. `inventory-1`. */
  name: string;
  /** The app folder under sample/apps. */
  app: string;
  /** Environment on top of the shared one (e.g. CONSUMER_NAME). */
  env?: Record<string, string>;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * A service process: started, killed (SIGKILL) and started again under the same name and environment, stopped
 * (SIGTERM, as Docker or Kubernetes do). `stoppedCleanly` is true once Nest's shutdown hooks ran to the end.
 */
export class ServiceProcess {
  port = 0;
  exit: ExitInfo | undefined;
  stoppedCleanly = false;
  private child: ChildProcess | undefined;
  private exited: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });

  constructor(
    readonly spec: ServiceSpec,
    private readonly script: string,
    private readonly env: Record<string, string>,
    private readonly log: ServiceLog,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.exit === undefined;
  }

  /** Starts the process; resolves once it listens (its "ready" message), rejects if it exits first. */
  async start(): Promise<void> {
    this.exit = undefined;
    this.stoppedCleanly = false;
    const child = spawn(process.execPath, [this.script], {
      env: { ...process.env, ...this.env, ...this.spec.env, PORT: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', line => {
        if (/\bLOG \[Lifecycle\] stopped\b/.test(line)) this.stoppedCleanly = true;
        this.log.line(this.name, line);
      });
    }
    this.exited = new Promise(resolve =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} not ready within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
      child.on('message', (message: { type?: string; port?: number }) => {
        if (message?.type !== 'ready') return;
        clearTimeout(timer);
        this.port = message.port ?? 0;
        resolve();
      });
      void this.exited.then(exit => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited during start-up (code ${exit.code}, signal ${exit.signal}); see its log lines`));
      });
    });
    await ready;
  }

  /** SIGKILL: no shutdown hooks, no acks, connections cut. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it is still there after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<ExitInfo> {
    if (!this.running) return this.exit ?? { code: null, signal: null };
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** For process.on('exit'): no waiting, no hooks. */
  killNow(): void {
    if (this.running) this.child!.kill('SIGKILL');
  }
}
