import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../harness/redis-server.js';
import { waitFor } from '../harness/wait.js';

/** A real Prometheus (Debian's `prometheus` package, from PATH) started by a test, scraping `targets` every second. */
export interface TestPrometheus {
  url: string;
  /** An instant query through the HTTP API: the result vector. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** `/api/v1/label/<name>/values?match[]=<selector>`. */
  labelValues(name: string, match: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** Whether a binary is on the PATH (answers `--version`). */
export function installed(binary: string): boolean {
  return spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function startPrometheus(targets: string[]): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'nestream-prometheus-'));
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: nestream',
      '    static_configs:',
      `      - targets: [${targets.map(t => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  let log = '';
  const proc: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  proc.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
  const exited = new Promise<void>(resolve => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}: ${log}`);
      return (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200;
    }, 'Prometheus ready', 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const api = async <T>(path: string): Promise<T> => {
    const body = (await (await fetch(`${url}${path}`)).json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error}`);
    return body.data;
  };
  return {
    url,
    async query(expr) {
      const data = await api<{ resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result;
    },
    labelValues: (name, match) => api<string[]>(`/api/v1/label/${name}/values?match[]=${encodeURIComponent(match)}`),
    stop,
  };
}
