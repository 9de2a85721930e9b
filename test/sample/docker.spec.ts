import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * No Docker engine runs here, so the image is not built; what can rot silently is checked instead: every path
 * sample/Dockerfile copies exists (sources in the build context, the repository root; files of an earlier stage
 * where `npm run build` leaves them), and every file the compose services run is one the image has.
 * (CI also validates sample/docker-compose.yml with `docker-compose config`.)
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dockerfile = readFileSync(join(ROOT, 'sample/Dockerfile'), 'utf8');

/** The COPY instructions: stage (undefined for the build context), sources and destination. */
function copies(): Array<{ from?: string; sources: string[]; line: string }> {
  return dockerfile
    .split('\n')
    .filter(line => /^COPY\s/.test(line))
    .map(line => {
      const words = line.trim().split(/\s+/).slice(1);
      const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
      return { from, sources: words.slice(0, -1), line };
    });
}

describe('sample/Dockerfile', () => {
  it('copies only paths that exist in the build context (the repository root)', () => {
    const fromContext = copies().filter(c => c.from === undefined);
    expect(fromContext.length).toBeGreaterThan(5);
    const missing = fromContext.flatMap(c => c.sources.filter(s => !existsSync(join(ROOT, s))).map(s => `${s}  (${c.line})`));
    expect(missing).toEqual([]);
  });

  it('copies from its build stages only what a build produces (compared with this repository after npm run build)', () => {
    const fromStages = copies().filter(c => c.from !== undefined);
    expect(fromStages.length).toBeGreaterThan(5);
    // The stages work in /app, laid out as the repository: /app/x is x here, once built.
    const missing = fromStages.flatMap(c => c.sources.filter(s => !existsSync(join(ROOT, s.replace(/^\/app\//, '')))).map(s => `${s}  (${c.line})`));
    expect(missing).toEqual([]);
  });

  it('has a final stage that runs as a non-root user and installs no dev dependencies', () => {
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(finalStage).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(finalStage).not.toMatch(/npm (ci|install)/);
  });

  it('has every script that docker-compose.yml runs', () => {
    const compose = readFileSync(join(ROOT, 'sample/docker-compose.yml'), 'utf8');
    const scripts = [...compose.matchAll(/command: \["(sample\/dist\/[^"]+\.js)"\]/g)].map(m => m[1]!);
    expect(scripts.length).toBe(7); // the migrations, five services and the board
    const copied = copies().filter(c => c.from === 'build').flatMap(c => c.sources.map(s => s.replace(/^\/app\//, '')));
    for (const script of scripts) {
      expect(existsSync(join(ROOT, script))).toBe(true);
      expect(copied.some(path => script === path || script.startsWith(`${path}/`))).toBe(true);
    }
  });
});
