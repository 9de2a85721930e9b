import type { RedisOptions } from 'ioredis';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { DEFAULT_CONNECTION, type ConnectionOptions } from '../options/connection.js';
import { defaultDeadLetterKey } from '../options/dead-letter.js';

/** Options of `StreamsAdmin`: the same `connection`, `keyPrefix` and `deadLetter.key` as the server's. */
export interface StreamsAdminOptions {
  /** ioredis options or URL. @default 'redis://127.0.0.1:6379' */
  connection?: ConnectionOptions;
  /** Prepended to every stream name, as by the server and client. @default '' */
  keyPrefix?: string;
  /** Where a stream's dead letters are, as the server's `deadLetter.key`. @default { key: stream => `${stream}:dlq` } */
  deadLetter?: { key?: (stream: string) => string };
  /**
   * ioredis settings applied over `connection` (the CLI sets short timeouts and no reconnects here).
   * @default {}
   */
  redisOptions?: RedisOptions;
}

export interface ResolvedAdminOptions {
  connection: ConnectionOptions;
  keyPrefix: string;
  deadLetterKey: (stream: string) => string;
  redisOptions: RedisOptions;
}

export const DEFAULT_ADMIN_OPTIONS = {
  connection: DEFAULT_CONNECTION,
  keyPrefix: '',
  deadLetterKey: defaultDeadLetterKey,
};

export function resolveAdminOptions(options: StreamsAdminOptions = {}): ResolvedAdminOptions {
  const keyPrefix = options.keyPrefix ?? DEFAULT_ADMIN_OPTIONS.keyPrefix;
  if (typeof keyPrefix !== 'string') throw new InvalidOptionsError('keyPrefix', `must be a string, got ${JSON.stringify(keyPrefix)}`);
  const deadLetterKey = options.deadLetter?.key ?? DEFAULT_ADMIN_OPTIONS.deadLetterKey;
  if (typeof deadLetterKey !== 'function') throw new InvalidOptionsError('deadLetter.key', 'must be a function (stream) => key');
  return {
    connection: options.connection ?? DEFAULT_ADMIN_OPTIONS.connection,
    keyPrefix,
    deadLetterKey,
    redisOptions: options.redisOptions ?? {},
  };
}
