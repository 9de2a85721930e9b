import type { Redis } from 'ioredis';
import { FIELD_CORRELATION_ID, FIELD_DATA } from '../wire/codec.js';

/**
 * Bulk XADD for emitMany(): one script call adds a chunk of entries to one stream, in order, and returns
 * their ids. Building one command per chunk instead of one per entry is most of what a producer spends at
 * high rates (an ioredis Command, its promise and its reply each cost more than the XADD itself).
 *
 * ARGV: [maxLen or '', then per entry either 0, data, cid (a plain event: the field names are in the
 * script, two arguments fewer to send and to turn into Lua strings), or n followed by n field/value
 * arguments].
 */
const SCRIPT = `
local key = KEYS[1]
local maxlen = ARGV[1]
local ids = {}
local i = 2
local n = #ARGV
while i <= n do
  local c = tonumber(ARGV[i])
  if c == 0 then
    if maxlen == '' then
      ids[#ids + 1] = redis.call('XADD', key, '*', '${FIELD_DATA}', ARGV[i + 1], '${FIELD_CORRELATION_ID}', ARGV[i + 2])
    else
      ids[#ids + 1] = redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', '${FIELD_DATA}', ARGV[i + 1], '${FIELD_CORRELATION_ID}', ARGV[i + 2])
    end
    i = i + 3
  else
    local args = { key }
    if maxlen ~= '' then args[2] = 'MAXLEN'; args[3] = '~'; args[4] = maxlen end
    args[#args + 1] = '*'
    for j = i + 1, i + c do args[#args + 1] = ARGV[j] end
    ids[#ids + 1] = redis.call('XADD', unpack(args))
    i = i + c + 1
  end
end
return ids
`;

/** Entries per script call: bounds how long Redis runs one script (about 1.5 ms for 250 plain events here). */
export const XADD_MANY_CHUNK = 250;

const COMMAND = 'nestreamXaddMany';

type WithScript = Redis & { [COMMAND]: (key: string, ...args: Array<string | number>) => Promise<string[]> };

/**
 * Adds the entries (each a flat field/value list) to `stream`, trimmed to about `maxLen` when given.
 * Chunks go out together (the connection pipelines them); the ids come back in order. On an error, entries
 * before the failing one may have been added, as with a pipeline of XADDs.
 */
export async function xaddMany(redis: Redis, stream: string, maxLen: number | undefined, entries: Array<Array<string | number>>): Promise<string[]> {
  const r = redis as WithScript;
  // ioredis sends EVALSHA, and the script itself if Redis does not know it yet (NOSCRIPT).
  if (typeof r[COMMAND] !== 'function') redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: SCRIPT });
  const calls: Array<Promise<string[]>> = [];
  for (let start = 0; start < entries.length; start += XADD_MANY_CHUNK) {
    const args: Array<string | number> = [maxLen ? maxLen : ''];
    const end = Math.min(entries.length, start + XADD_MANY_CHUNK);
    for (let k = start; k < end; k++) {
      const fields = entries[k];
      if (fields.length === 4 && fields[0] === FIELD_DATA && fields[2] === FIELD_CORRELATION_ID) args.push(0, fields[1], fields[3]);
      else {
        args.push(fields.length);
        for (const f of fields) args.push(f);
      }
    }
    calls.push(r[COMMAND](stream, ...args));
  }
  const chunks = await Promise.all(calls);
  return chunks.length === 1 ? chunks[0] : chunks.flat();
}
