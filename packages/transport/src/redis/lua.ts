import type { RedisClient } from './redis-client.js';
import { PermissionError } from '../errors/permission.error.js';
import { isPermissionDenied } from './command-errors.js';
import { SCRIPTS, type ScriptName } from './scripts/scripts.generated.js';

type WithScripts = RedisClient & Record<string, (...args: Array<string | number>) => Promise<unknown>>;

/**
 * Runs one of the transport's Lua scripts (`src/redis/scripts/*.lua`). Defined once per connection:
 * ioredis then sends EVALSHA, and the script itself only when Redis does not know it yet (NOSCRIPT).
 */
export function runScript<T>(redis: RedisClient, name: ScriptName, keys: string[], args: Array<string | number>): Promise<T> {
  const command = `nestream_${name}`;
  const r = redis as WithScripts;
  if (typeof r[command] !== 'function') redis.defineCommand(command, SCRIPTS[name]);
  return r[command](...keys, ...args) as Promise<T>;
}

/**
 * A script's ACL refusal as a PermissionError naming the command and key, as for a command sent directly.
 * Scripts using dead-letter-copy.lua's call() name them in their NOPERM ("'xadd' command on key \"k\"");
 * other errors are returned as they are.
 */
export function scriptPermissionError(err: unknown): unknown {
  if (!isPermissionDenied(err)) return err;
  const named = /'([^']+)' command on key "([^"]*)"/.exec((err as Error).message);
  return named ? new PermissionError([{ command: named[1].toUpperCase().replace('|', ' '), key: named[2] }], err) : err;
}
