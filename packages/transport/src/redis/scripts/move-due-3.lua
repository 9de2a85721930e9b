--[[
  Moves the delayed emits that are due (on Redis's clock) from a stream's schedule into the stream, oldest due
  first, each exactly once: adding the entry and removing it from the schedule happen in this one step, so
  consumers moving concurrently, or dying mid-way, neither lose nor duplicate one.

  KEYS[1] the stream
  KEYS[2] the stream's schedule (sorted set: schedule id -> due time in ms)
  KEYS[3] the stream's scheduled entries (hash: schedule id -> the entry's fields as a JSON array)
  ARGV[1] entries moved at most (bounds how long Redis runs this script)
  ARGV[2] MAXLEN for approximate trimming of the stream, or ''

  Returns { entries moved, ms until the next due entry after them (-1: none scheduled) }
]]
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', nowMs, 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(due) do
  local fields = redis.call('HGET', KEYS[3], id)
  if fields then
    local args = { KEYS[1] }
    if ARGV[2] ~= '' then args[2] = 'MAXLEN'; args[3] = '~'; args[4] = ARGV[2] end
    args[#args + 1] = '*'
    for _, v in ipairs(cjson.decode(fields)) do args[#args + 1] = v end
    redis.call('XADD', unpack(args))
    redis.call('HDEL', KEYS[3], id)
  end
  redis.call('ZREM', KEYS[2], id)
end
local next = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #next == 0 then return { #due, -1 } end
return { #due, math.max(0, tonumber(next[2]) - nowMs) }
