--[[
  Deletes a consumer of a group only if it has no pending entry, in one atomic step.
  XGROUP DELCONSUMER drops a consumer's pending entries for good, so checking first and deleting later
  could lose an entry delivered in between.

  KEYS[1] the stream
  ARGV[1] the group
  ARGV[2] the consumer

  Returns 1 if the consumer was deleted, 0 if it was kept.
]]
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #pending > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
