import { execFileSync } from 'node:child_process';

describe('Lua scripts', () => {
  it('has scripts.generated.ts up to date with the .lua files (npm run lua)', () => {
    // Throws (non-zero exit) when a .lua file changed without regenerating.
    expect(() => execFileSync(process.execPath, ['scripts/build-lua.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
