--[[
  Cancels a delayed emit that has not entered its stream yet.

  KEYS[1] the stream's schedule (sorted set)
  KEYS[2] the stream's scheduled entries (hash)
  ARGV[1] the schedule id

  Returns 1 if it was cancelled, 0 if it was not scheduled (any more: moved into the stream, or cancelled).
]]
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return removed
