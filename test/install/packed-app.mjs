// What the installability test and the docs' snippet check share: @nestream/transport packed as `npm publish`
// would, and fresh apps made from a template folder here with that tarball installed from the registry's
// point of view (`file:TARBALL` in a template's package.json names it).
import { execFile } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const TEMPLATES = dirname(fileURLToPath(import.meta.url));
const PACKAGES = join(TEMPLATES, '..', '..', 'packages');

/** Packs @nestream/<name> into `work` (prepack builds it); the tarball's path. */
export async function packPackage(work, name) {
  await run('npm', ['pack', '--pack-destination', work, '--loglevel=error'], { cwd: join(PACKAGES, name) });
  return join(work, readdirSync(work).find(f => f.startsWith(`nestream-${name}-`) && f.endsWith('.tgz')));
}

/** Packs @nestream/transport into `work`; the tarball's path. */
export function packTransport(work) {
  return packPackage(work, 'transport');
}

/** Runs one command of an app, logged with its time; throws with the command's output when it fails. */
export async function step(app, cwd, [cmd, ...args]) {
  const started = Date.now();
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CI: 'true' } });
    console.log(`[${app}] ok   ${cmd} ${args.join(' ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return `${stdout}${stderr}`;
  } catch (err) {
    const error = new Error(`${app}: ${cmd} ${args.join(' ')} failed`);
    error.output = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    console.error(`[${app}] FAIL ${cmd} ${args.join(' ')}\n${error.output}`);
    throw error;
  }
}

/**
 * Copies the template folder `template` to `dir`, lets `edit` change its package.json (an object), points
 * `file:TARBALL` at the transport's tarball (and `file:TESTING_TARBALL` at @nestream/testing's, when given) and
 * runs `npm install`.
 */
export async function installApp(template, dir, tarballs, edit = manifest => manifest) {
  const { transport, testing } = typeof tarballs === 'string' ? { transport: tarballs } : tarballs;
  cpSync(join(TEMPLATES, template), dir, { recursive: true, filter: src => !/node_modules|dist/.test(src.slice(TEMPLATES.length)) });
  const path = join(dir, 'package.json');
  const manifest = edit(JSON.parse(readFileSync(path, 'utf8')));
  let text = JSON.stringify(manifest, null, 2).replace('file:TARBALL', `file:${transport}`);
  if (testing) text = text.replace('file:TESTING_TARBALL', `file:${testing}`);
  writeFileSync(path, `${text}\n`);
  await step(template, dir, ['npm', 'install', '--no-audit', '--no-fund', '--loglevel=error']);
}
