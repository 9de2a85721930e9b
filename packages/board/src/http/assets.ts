import { readFileSync } from 'node:fs';

/** The board's static files, shipped in the package (`assets/`): no CDN, works offline. Read once. */
const TYPES: Record<string, string> = {
  'board.js': 'text/javascript; charset=utf-8',
  'board.css': 'text/css; charset=utf-8',
};

const cache = new Map<string, Buffer>();

export function readAsset(name: string): { body: Buffer; type: string } | undefined {
  const type = TYPES[name];
  if (!type) return undefined;
  let body = cache.get(name);
  if (!body) {
    // dist/http/ and src/http/ both sit two levels below the package root.
    body = readFileSync(new URL(`../../assets/${name}`, import.meta.url));
    cache.set(name, body);
  }
  return { body, type };
}
