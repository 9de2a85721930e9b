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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installApp, packPackage, step } from './packed-app.mjs';

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

async function check(app, tarballs) {
  const dir = join(work, app);
  await installApp(app, dir, tarballs);
  for (const command of apps[app]) await step(app, dir, command);
}

const started = Date.now();
try {
  const tarballs = {};
  for (const name of ['transport', 'testing']) {
    tarballs[name] = await packPackage(work, name);
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
