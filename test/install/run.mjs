// Installability test: packs @nestream/transport as `npm publish` would, installs the tarball from the
// registry's point of view into two fresh apps, and checks each the way its users would:
//   cjs-nest11: a CommonJS NestJS 11 app laid out as `nest new` (schematics 11) makes it; type-checked under
//               its nodenext tsconfig with TypeScript 5.7 (< 5.8: an ESM-only package fails there with TS1479)
//               and under module commonjs / moduleResolution node10 (the `/health` subpath needs typesVersions);
//               its own Jest config (ts-jest) runs the template's spec and a smoke spec.
//   esm-nest12: an ES module NestJS 12 app (TypeScript 6, nodenext), built with tsc and run with node; its
//               smoke also loads the CommonJS build next to the ESM one (the dual-package hazard).
// Each smoke starts its own redis-server (from PATH, free port), emits and handles one event, and asks
// /health (Terminus + RedisStreamsHealthIndicator through DI). Dependencies come from the npm registry.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installApp, packTransport, step } from './packed-app.mjs';

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
  ],
};

async function check(app, tarball) {
  const dir = join(work, app);
  await installApp(app, dir, tarball);
  for (const command of apps[app]) await step(app, dir, command);
}

const started = Date.now();
try {
  const tarball = await packTransport(work);
  console.log(`packed ${tarball}`);
  const results = await Promise.allSettled(Object.keys(apps).map(app => check(app, tarball)));
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
