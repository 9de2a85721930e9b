import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from '@nestream/transport/admin';
import { usageError } from './cli-error.js';

/**
 * `--config <file>`: a JSON file with what the transport's options hold, for connections a URL cannot
 * express (TLS settings, sentinels) and to keep them out of shell history.
 *
 *     { "connection": { "host": "redis.internal", "port": 6380, "tls": {} }, "keyPrefix": "app:" }
 */
export interface ConfigFile {
  /** As the transport's `connection`: a URL or ioredis options. */
  connection?: ConnectionOptions;
  /** As the transport's `keyPrefix`. */
  keyPrefix?: string;
  /** The dead-letter stream of `s` is `s + deadLetterSuffix` (the server's default `deadLetter.key`). @default ':dlq' */
  deadLetterSuffix?: string;
}

const KNOWN = new Set(['connection', 'keyPrefix', 'deadLetterSuffix']);

export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw usageError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw usageError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usageError(`config file ${path} must hold a JSON object`);
  const config = parsed as Record<string, unknown>;
  for (const key of Object.keys(config)) {
    if (!KNOWN.has(key)) throw usageError(`config file ${path}: unknown setting "${key}" (known: ${[...KNOWN].join(', ')})`);
  }
  const { connection, keyPrefix, deadLetterSuffix } = config;
  if (connection !== undefined && typeof connection !== 'string' && (typeof connection !== 'object' || connection === null || Array.isArray(connection))) {
    throw usageError(`config file ${path}: "connection" must be a URL or an object of ioredis options`);
  }
  for (const [name, value] of [['keyPrefix', keyPrefix], ['deadLetterSuffix', deadLetterSuffix]] as const) {
    if (value !== undefined && typeof value !== 'string') throw usageError(`config file ${path}: "${name}" must be a string`);
  }
  return config as ConfigFile;
}
