import type { Redis } from 'ioredis';

/**
 * Bulk XADD for emitMany(): one script call adds a chunk of entries to one stream, in order, and returns
 * their ids. Building one command per chunk instead of one per entry is most of what a producer spends at
 * high rates (an ioredis Command, its promise and its reply each cost more than the XADD itself).
 *
 * ARGV: [maxLen or '', then per entry: its number of field/value arguments, then those arguments].
 * A plain event (data + cid, no trimming) takes the direct call; anything else builds the argument list.
 */
const SCRIPT = `
local key = KEYS[1]
local maxlen = ARGV[1]
local ids = {}
local i = 2
local n = #ARGV
while i <= n do
  local c = tonumber(ARGV[i])
  if maxlen == '' and c == 4 then
    ids[#ids + 1] = redis.call('XADD', key, '*', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4])
  else
    local args = { key }
    if maxlen ~= '' then args[2] = 'MAXLEN'; args[3] = '~'; args[4] = maxlen end
    args[#args + 1] = '*'
    for j = i + 1, i + c do args[#args + 1] = ARGV[j] end
    ids[#ids + 1] = redis.call('XADD', unpack(args))
  end
  i = i + c + 1
end
return ids
`;

/** Entries per script call: bounds how long Redis runs one script (about a millisecond per 1,000 entries). */
export const XADD_MANY_CHUNK = 500;

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
      args.push(fields.length);
      for (const f of fields) args.push(f);
    }
    calls.push(r[COMMAND](stream, ...args));
  }
  const chunks = await Promise.all(calls);
  return chunks.length === 1 ? chunks[0] : chunks.flat();
}
