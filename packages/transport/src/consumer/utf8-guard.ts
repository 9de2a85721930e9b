import { isUtf8 } from 'node:buffer';
import type { RedisClient } from '../redis/redis-client.js';
import type { LoggerService } from '@nestjs/common';
import { DecodeError } from '../errors/decode.error.js';
import { redisErrorMessage } from '../redis/replies.js';
import {
  FIELD_CORRELATION_ID, FIELD_DATA, FIELD_DEADLINE, FIELD_HEADERS, FIELD_REPLY_TO, FIELD_VERSION,
} from '../wire/codec.js';
import type { AttemptResult } from './attempt-result.js';
import type { Leases } from './leases.js';
import type { StreamEntry } from './stream-entry.js';

/** What the transport reads of an entry. Other fields are never looked at, so their bytes do not matter here. */
const WIRE_FIELDS: ReadonlySet<string> = new Set([
  FIELD_DATA, FIELD_HEADERS, FIELD_CORRELATION_ID, FIELD_REPLY_TO, FIELD_DEADLINE, FIELD_VERSION,
]);

/** What decoding replaces bytes that are not UTF-8 with. */
const REPLACEMENT = '\uFFFD';

type XRangeBufferReply = Array<[id: Buffer, fields: Buffer[]]>;

const GONE: AttemptResult = { kind: 'skipped', why: 'trimmed' };

export interface Utf8GuardDeps {
  /** The commands connection (the re-read as bytes). */
  redis: RedisClient;
  leases: Leases;
  logger: LoggerService;
}

/**
 * Keeps entries whose bytes are not valid UTF-8 away from handlers. The reader reads fields as UTF-8 text
 * (fast, and what the JSON wire format is), and decoding replaces each invalid byte sequence with U+FFFD:
 * a handler would get altered data without knowing. So an entry whose wire fields hold U+FFFD after
 * decoding is read again as bytes: if they are valid UTF-8, the U+FFFD was written on purpose and the entry
 * is handed over unchanged; if not, it is handed over `screened` as rejected (`decode`): its attempt returns
 * that without calling the handler, and it is dead-lettered like any other (`decide()`, the settler), byte for
 * byte (the copy is made inside Redis). Costs one `includes` per wire field on the hot path, and a read of the entry only when
 * U+FFFD appears.
 */
export class Utf8Guard {
  constructor(private readonly deps: Utf8GuardDeps) {}

  /**
   * The entries to hand to the dispatcher, in order: the same array (synchronously) when no entry may have
   * been altered, else a promise of them with the ones not UTF-8 screened (rejected), and without those whose
   * check Redis failed (left pending).
   */
  screen(entries: StreamEntry[]): StreamEntry[] | Promise<StreamEntry[]> {
    for (const entry of entries) {
      if (entry.fields && mayBeAltered(entry.fields)) return this.checkAll(entries);
    }
    return entries;
  }

  private async checkAll(entries: StreamEntry[]): Promise<StreamEntry[]> {
    const verdicts = await Promise.all(entries.map(e => (e.fields && mayBeAltered(e.fields) ? this.check(e) : true)));
    return entries.filter((_, i) => verdicts[i]);
  }

  /** True to hand the entry over (screened, if it was not UTF-8 or is gone); false when it was left pending. */
  private async check(entry: StreamEntry): Promise<boolean> {
    let found: XRangeBufferReply;
    try {
      found = (await this.deps.redis.xrangeBuffer(entry.stream, entry.id, entry.id)) as unknown as XRangeBufferReply;
    } catch (err) {
      // Redis failed us: the entry stays pending, unhandled, and is claimed again later.
      this.deps.leases.release(entry);
      this.deps.logger.error(`Could not check the bytes of entry ${entry.id} of ${entry.stream}, it stays pending: ${redisErrorMessage(err)}`);
      return false;
    }
    // Gone since it was read: the attempt acks what is left of it, as for any trimmed entry.
    if (found.length === 0) entry.screened = GONE;
    else {
      const invalid = firstInvalidField(found[0][1]);
      if (invalid !== undefined) entry.screened = { kind: 'rejected', reason: 'decode', error: new DecodeError(`"${invalid}" is not valid UTF-8`) };
    }
    return true;
  }
}

function mayBeAltered(fields: string[]): boolean {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i + 1].includes(REPLACEMENT) && WIRE_FIELDS.has(fields[i])) return true;
  }
  return false;
}

/** The first wire field whose value is not valid UTF-8, if any. */
function firstInvalidField(fields: Buffer[]): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i].toString();
    if (WIRE_FIELDS.has(name) && !isUtf8(fields[i + 1])) return name;
  }
  return undefined;
}
