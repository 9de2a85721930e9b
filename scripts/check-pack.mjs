// Checks what `npm pack` puts in the @nestream/transport and @nestream/testing tarballs: exactly the expected
// files, computed from the sources (each src/**/*.ts gives a .js, .d.ts and .js.map in dist/esm and in dist/cjs;
// for the transport that includes src/internal.ts, the `@nestream/transport/internal` entry point the testing kit
// uses), plus package.json, README.md, CHANGELOG.md, LICENSE, dist/cjs/package.json and, for the transport, the dashboards/
// folder (Grafana dashboard, Prometheus config); source maps carry their sources. Catches a tarball without a
// build, without its LICENSE, or with sources, tests or build leftovers. `npm pack --dry-run` runs prepack (the build).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const packages = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages');
let failed = false;
for (const name of ['transport', 'testing']) if (!checkPackage(join(packages, name))) failed = true;
if (failed) process.exit(1);

function checkPackage(pkg) {
  function sources(dir) {
    return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return sources(path);
      return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [relative(join(pkg, 'src'), path)] : [];
    });
  }

  const expected = new Set(['package.json', 'LICENSE', 'dist/cjs/package.json']);
  // A package's README ships when it has one.
  if (name(pkg) === 'transport' || existsSync(join(pkg, 'README.md'))) expected.add('README.md');
  if (existsSync(join(pkg, 'CHANGELOG.md'))) expected.add('CHANGELOG.md');
  for (const source of sources(join(pkg, 'src'))) {
    const base = source.replace(/\.ts$/, '').split('\\').join('/');
    for (const build of ['esm', 'cjs']) for (const ext of ['.js', '.d.ts', '.js.map']) expected.add(`dist/${build}/${base}${ext}`);
  }

  if (name(pkg) === 'transport') for (const file of readdirSync(join(pkg, 'dashboards'))) expected.add(`dashboards/${file}`);

  const [report] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts=false'], { cwd: pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  const packed = new Set(report.files.map(f => f.path));
  const missing = [...expected].filter(f => !packed.has(f)).sort();
  const extra = [...packed].filter(f => !expected.has(f)).sort();
  // src/ is not shipped: a source map must carry the sources it points at.
  const mapsWithoutSources = [...packed].filter(f => f.endsWith('.map')).filter(f => {
    const map = JSON.parse(readFileSync(join(pkg, f), 'utf8'));
    return !Array.isArray(map.sourcesContent) || map.sourcesContent.length !== map.sources.length;
  });
  if (mapsWithoutSources.length) console.error(`source maps without sourcesContent:\n  ${mapsWithoutSources.join('\n  ')}`);
  if (missing.length || extra.length || mapsWithoutSources.length) {
    if (missing.length) console.error(`missing from the tarball (${missing.length}):\n  ${missing.join('\n  ')}`);
    if (extra.length) console.error(`not expected in the tarball (${extra.length}):\n  ${extra.join('\n  ')}`);
    return false;
  }
  console.log(`${report.filename}: ${packed.size} files as expected, ${(report.size / 1024).toFixed(0)} KB packed`);
  return true;
}

function name(pkg) {
  return pkg.split(/[\\/]/).pop();
}

// @nestream/board: ESM only (dist/), its page's assets, LICENSE, README.md and CHANGELOG.md; no sources or tests
// (its full docs are the site's).
const boardPkg = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'board');
const boardExpected = new Set(['package.json', 'LICENSE', 'README.md', 'CHANGELOG.md']);
for (const source of sourcesOf(join(boardPkg, 'src'))) {
  const base = relative(join(boardPkg, 'src'), source).replace(/\.ts$/, '').split('\\').join('/');
  for (const ext of ['.js', '.d.ts', '.js.map']) boardExpected.add(`dist/${base}${ext}`);
}
for (const file of readdirSync(join(boardPkg, 'assets'))) boardExpected.add(`assets/${file}`);
const [boardReport] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts=false'], { cwd: boardPkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
const boardPacked = new Set(boardReport.files.map(f => f.path));
const boardMissing = [...boardExpected].filter(f => !boardPacked.has(f)).sort();
const boardExtra = [...boardPacked].filter(f => !boardExpected.has(f)).sort();
if (boardMissing.length || boardExtra.length) {
  if (boardMissing.length) console.error(`missing from the board tarball (${boardMissing.length}):\n  ${boardMissing.join('\n  ')}`);
  if (boardExtra.length) console.error(`not expected in the board tarball (${boardExtra.length}):\n  ${boardExtra.join('\n  ')}`);
  process.exit(1);
}
console.log(`${boardReport.filename}: ${boardPacked.size} files as expected, ${(boardReport.size / 1024).toFixed(0)} KB packed`);

function sourcesOf(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourcesOf(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}
