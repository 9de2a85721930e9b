import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Starts a fixture script as a child process (with `env` added to this process's) and resolves once it printed "ready". */
export async function startChild(script: string, args: string[], env?: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(fixtures, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: env ? { ...process.env, ...env } : undefined });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', code => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
  return child;
}

export async function sigkill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise(r => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}
