// The docs' TypeScript compiles: every ```ts block of the READMEs and the docs site's pages is type-checked
// inside fresh apps made as `nest new` makes them, with @nestream/transport and @nestream/testing installed from
// their packed tarballs:
//   nest-new-12: @nestjs/cli 12's default (ESM, "type": "module", module nodenext, strict: true, Vitest globals)
//   nest-new-11: @nestjs/cli 11's default (CommonJS, module nodenext, strict: false, Jest)
// Each template folder here is `nest new`'s output for those defaults, unchanged; this check adds the packages
// the docs install (SNIPPET_DEPENDENCIES) and drops the dev tools that take no part in type-checking (CLI,
// linters, formatters, test runners' binaries: their types stay). One tsc run per app over all blocks.
//
// Each block becomes src/snippet-<n>.ts next to the template's app.module.ts, so a block must carry its
// imports (relative ones end in .js, which both setups resolve). The fence's info string says more:
//   ```ts fragment   not checked (a few lines out of a class, an option object alone)
//   ```ts esm        checked in the ESM app only (top-level await, import.meta)
//   ```ts cjs        checked in the CommonJS app only (`./app.module` without extension, require)
// `<!-- fragment -->` on the line before a fence also skips it.
//
// `node test/install/snippets.mjs [--keep] [--no-install DIR]`: --keep leaves the apps in place; --no-install
// reuses apps kept by an earlier run in DIR (only the snippets are rewritten), for writing docs.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { installApp, packPackage, step, TEMPLATES } from './packed-app.mjs';

const ROOT = join(TEMPLATES, '..', '..');

/** What the docs tell a reader to install next to the template's own dependencies, per Nest major. */
const SNIPPET_DEPENDENCIES = {
  11: { '@nestjs/microservices': '^11.0.1', '@nestjs/terminus': '^11.0.0', '@nestjs/config': '^4.0.0', ioredis: '^5.0.0' },
  12: { '@nestjs/microservices': '^12.0.1', '@nestjs/terminus': '^12.0.0', '@nestjs/config': '^12.0.1', ioredis: '^6.0.0' },
  any: {
    '@nestream/transport': 'file:TARBALL',
    '@nestream/testing': 'file:TESTING_TARBALL',
    'prom-client': '^15.1.0',
    '@opentelemetry/api': '^1.9.0',
    '@opentelemetry/sdk-trace-node': '^2.0.0',
  },
};
/** Dev dependencies whose types the template's own sources use (the rest of its dev tools are not installed). */
const TYPED_DEV_DEPENDENCIES = new Set(['typescript', '@nestjs/testing', 'supertest', 'vitest', 'vite']);

const APPS = {
  'nest-new-12': { major: 12, skip: 'cjs' },
  'nest-new-11': { major: 11, skip: 'esm' },
};

/** The Markdown files whose code is checked: the READMEs and the docs site's pages (not the generated API pages). */
function markdownFiles() {
  const found = [join(ROOT, 'README.md')];
  for (const pkg of readdirSync(join(ROOT, 'packages'))) found.push(join(ROOT, 'packages', pkg, 'README.md'));
  const walk = dir =>
    readdirSync(dir, { withFileTypes: true }).forEach(e => {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (!['node_modules', 'api', '.vitepress'].includes(e.name)) walk(path);
      } else if (e.name.endsWith('.md')) found.push(path);
    });
  walk(join(ROOT, 'docs'));
  return found;
}

/** Every ```ts / ```typescript block: its file, the line of its first code line, its tags and code. */
export function extractBlocks(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(\S*)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang, rest] = open;
    let end = i + 1;
    while (end < lines.length && !(lines[end].trim().startsWith(fence) && lines[end].trim().replace(/[`~]/g, '') === '')) end++;
    if (lang === 'ts' || lang === 'typescript') {
      const tags = new Set(rest.split(/\s+/).filter(Boolean));
      if (/<!--\s*fragment\s*-->/.test(lines[i - 1] ?? '')) tags.add('fragment');
      const code = lines.slice(i + 1, end).map(l => (l.startsWith(indent) ? l.slice(indent.length) : l));
      blocks.push({ file: relative(ROOT, file), line: i + 2, tags, code: code.join('\n') });
    }
    i = end;
  }
  return blocks;
}

/** Writes the blocks an app checks as src/snippet-<n>.ts; where each came from, by file name. */
function writeSnippets(dir, blocks) {
  const origin = new Map();
  blocks.forEach((block, n) => {
    const name = `src/snippet-${n}.ts`;
    // A block with no import or export would be a script sharing one global scope with the others.
    const isModule = /^\s*(import|export)\s/m.test(block.code);
    writeFileSync(join(dir, name), `${block.code}\n${isModule ? '' : 'export {};\n'}`);
    origin.set(name, block);
  });
  return origin;
}

/** tsc's diagnostics with each snippet's file and line replaced by the Markdown file and line it came from. */
function pointAtMarkdown(output, origin) {
  return output.replace(/(src\/snippet-\d+\.ts)\((\d+),(\d+)\)/g, (whole, name, line, column) => {
    const block = origin.get(name);
    return block ? `${block.file}:${block.line + Number(line) - 1}:${column}` : whole;
  });
}

function onlyTypeCheckingDependencies(major) {
  return manifest => {
    manifest.dependencies = { ...manifest.dependencies, ...SNIPPET_DEPENDENCIES[major], ...SNIPPET_DEPENDENCIES.any };
    manifest.devDependencies = Object.fromEntries(
      Object.entries(manifest.devDependencies).filter(([name]) => name.startsWith('@types/') || TYPED_DEV_DEPENDENCIES.has(name)),
    );
    return manifest;
  };
}

const keepIndex = process.argv.indexOf('--no-install');
const reuse = keepIndex === -1 ? undefined : process.argv[keepIndex + 1];
const keep = process.argv.includes('--keep') || reuse !== undefined;
const work = reuse ?? mkdtempSync(join(tmpdir(), 'nestream-snippets-'));
const started = Date.now();
try {
  const blocks = markdownFiles().flatMap(extractBlocks);
  const fragments = blocks.filter(b => b.tags.has('fragment')).length;
  // One after the other: both packs build (prepack), and the testing kit's build reads the transport's.
  const tarballs = reuse ? undefined : { transport: await packPackage(work, 'transport'), testing: await packPackage(work, 'testing') };
  const results = await Promise.allSettled(
    Object.entries(APPS).map(async ([app, { major, skip }]) => {
      const dir = join(work, app);
      if (!reuse) await installApp(app, dir, tarballs, onlyTypeCheckingDependencies(major));
      for (const f of readdirSync(join(dir, 'src'))) if (f.startsWith('snippet-')) rmSync(join(dir, 'src', f));
      const mine = blocks.filter(b => !b.tags.has('fragment') && !b.tags.has(skip));
      const origin = writeSnippets(dir, mine);
      try {
        await step(app, dir, ['npx', 'tsc', '--noEmit', '-p', 'tsconfig.json']);
      } catch (err) {
        err.message = `${app}: the docs' TypeScript does not compile:\n${pointAtMarkdown(err.output ?? '', origin)}`;
        throw err;
      }
      console.log(`[${app}] ${mine.length} blocks compile`);
    }),
  );
  const failed = results.filter(r => r.status === 'rejected');
  if (failed.length) {
    for (const f of failed) console.error(f.reason.message);
    process.exitCode = 1;
  } else {
    console.log(`docs snippets: ${blocks.length} TypeScript blocks, ${fragments} fragments skipped, the rest compile in both apps (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
