import type { Redis } from 'ioredis';
import { SCRIPTS, type ScriptName } from './scripts/scripts.generated.js';

type WithScripts = Redis & Record<string, (...args: Array<string | number>) => Promise<unknown>>;

/**
 * Runs one of the transport's Lua scripts (`src/redis/scripts/*.lua`). Defined once per connection:
 * ioredis then sends EVALSHA, and the script itself only when Redis does not know it yet (NOSCRIPT).
 */
export function runScript<T>(redis: Redis, name: ScriptName, keys: string[], args: Array<string | number>): Promise<T> {
  const command = `nestream_${name}`;
  const r = redis as WithScripts;
  if (typeof r[command] !== 'function') redis.defineCommand(command, SCRIPTS[name]);
  return r[command](...keys, ...args) as Promise<T>;
}
