--[[
  Takes a group's lease on an ordered partition if nobody holds it, and counts a new generation of it in the
  same step: the generation (the fencing token handlers see) grows each time the partition changes hands, and
  no consumer can hold the lease under a generation another one also had. Both keys are in the partition's slot.

  KEYS[1] the partition's lease key (<partition stream>:owner:<group>)
  KEYS[2] the lease's generation counter (<partition stream>:owner-generation:<group>)
  ARGV[1] the consumer
  ARGV[2] the lease time, ms (claim.minIdleMs)

  Returns the new generation (>= 1) when taken, 0 when the lease is held.
]]
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
-- INCRBY, not INCR: the permission probe can check INCRBY without side effects (a count that is not a number).
return redis.call('INCRBY', KEYS[2], 1)
