// Installability test: packs @nestream/transport and @nestream/testing as `npm publish` would, installs the
// tarballs from the registry's point of view into two fresh apps, and checks each the way its users would:
//   cjs-nest11: a CommonJS NestJS 11 app laid out as `nest new` (schematics 11) makes it; type-checked under
//               its nodenext tsconfig with TypeScript 5.7 (< 5.8: an ESM-only package fails there with TS1479)
//               and under module commonjs / moduleResolution node10 (the `/health` subpath needs typesVersions);
//               its own Jest config (ts-jest) runs the template's spec and a smoke spec.
//   esm-nest12: an ES module NestJS 12 app (TypeScript 6, nodenext), built with tsc and run with node; its
//               smoke also loads the CommonJS build next to the ESM one (the dual-package hazard).
// Each smoke starts its own redis-server (from PATH, free port), emits and handles one event, and asks
// /health (Terminus + RedisStreamsHealthIndicator through DI). Each app also has a controller test on
// @nestream/testing's in-memory bed (no Redis: success, retry then success, dead letter, a request, and the
// redelivery check), run by its Jest (cjs-nest11) or by Vitest (esm-nest12). Dependencies come from the npm registry.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, '..', '..', 'packages');
const work = mkdtempSync(join(tmpdir(), 'nestream-install-'));
const keep = process.argv.includes('--keep');

const apps = {
  'cjs-nest11': [
    ['npx', 'tsc', '--noEmit', '-p', 'tsconfig.json'],
    ['npx', 'tsc', '--noEmit', '-p', 'tsconfig.commonjs.json'],
    ['npx', 'jest'],
  ],
  'esm-nest12': [
    ['npx', 'tsc', '-p', 'tsconfig.json'],
    ['node', 'dist/smoke.js'],
    ['npx', 'vitest', 'run'],
  ],
};

async function step(app, cwd, [cmd, ...args]) {
  const started = Date.now();
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CI: 'true' } });
    console.log(`[${app}] ok   ${cmd} ${args.join(' ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return `${stdout}${stderr}`;
  } catch (err) {
    console.error(`[${app}] FAIL ${cmd} ${args.join(' ')}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    throw new Error(`${app}: ${cmd} ${args.join(' ')} failed`);
  }
}

async function check(app, tarballs) {
  const dir = join(work, app);
  cpSync(join(here, app), dir, { recursive: true, filter: src => !/node_modules|dist/.test(src.slice(here.length)) });
  const manifest = join(dir, 'package.json');
  writeFileSync(
    manifest,
    readFileSync(manifest, 'utf8').replace('file:TARBALL', `file:${tarballs.transport}`).replace('file:TESTING_TARBALL', `file:${tarballs.testing}`),
  );
  await step(app, dir, ['npm', 'install', '--no-audit', '--no-fund', '--loglevel=error']);
  for (const command of apps[app]) await step(app, dir, command);
}

const started = Date.now();
try {
  const tarballs = {};
  for (const name of ['transport', 'testing']) {
    await run('npm', ['pack', '--pack-destination', work, '--loglevel=error'], { cwd: join(packages, name) });
    tarballs[name] = join(work, readdirSync(work).find(f => f.startsWith(`nestream-${name}-`) && f.endsWith('.tgz')));
    console.log(`packed ${tarballs[name]}`);
  }
  const results = await Promise.allSettled(Object.keys(apps).map(app => check(app, tarballs)));
  const failed = results.filter(r => r.status === 'rejected');
  if (failed.length) {
    for (const f of failed) console.error(f.reason.message);
    process.exitCode = 1;
  } else {
    console.log(`installability test passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
