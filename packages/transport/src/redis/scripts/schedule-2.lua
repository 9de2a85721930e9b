--[[
  Stores a delayed emit until its time: the entry's fields by schedule id, and the id by due time. The entry
  enters its stream when a consumer's mover finds it due (move-due-3.lua).

  KEYS[1] the stream's schedule (a sorted set: schedule id -> due time in ms), in the stream's slot
  KEYS[2] the stream's scheduled entries (a hash: schedule id -> the entry's fields as a JSON array)
  ARGV[1] the schedule id
  ARGV[2] the due time: ms since the epoch, or '+<ms>' for that long from now on Redis's clock
  ARGV[3] the entry's XADD fields, a JSON array of strings: ["data", "...", "cid", "...", ...]

  Returns the schedule id.
]]
local due = ARGV[2]
if string.sub(due, 1, 1) == '+' then
  local now = redis.call('TIME')
  due = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(string.sub(due, 2))
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], due, ARGV[1])
return ARGV[1]
