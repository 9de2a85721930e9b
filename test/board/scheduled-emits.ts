import { RedisStreamRecordBuilder } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import type { RedisFixture } from '../harness/fixture.js';

export const HOUR = 3_600_000;

/** Emits `data` into `stream` after `delayMs`, as an app would; resolves with the schedule id. */
export async function emitLater(fx: RedisFixture, stream: string, data: unknown, delayMs: number, headers: Record<string, string> = {}): Promise<string> {
  const record = new RedisStreamRecordBuilder(data).setHeaders(headers).setDelay(delayMs).build();
  return lastValueFrom(fx.client().emit<string>(stream, record));
}

/** The schedule ids waiting for a stream without a hash tag (its schedule is `{<stream>}:scheduled`). */
export async function scheduledIds(fx: RedisFixture, stream: string): Promise<string[]> {
  return fx.redis.client().zrange(`{${stream}}:scheduled`, 0, -1);
}
