--[[
  Renews a consumer's lease on an ordered partition if, and only if, it still holds it: a lease that expired
  (and may have been taken by another consumer since) is never extended. Returns the lease's generation, so a
  consumer restarted under the same name learns the fencing token of a lease it takes back.

  KEYS[1] the partition's lease key (<partition stream>:owner:<group>)
  KEYS[2] the lease's generation counter (<partition stream>:owner-generation:<group>)
  ARGV[1] the consumer
  ARGV[2] the lease time, ms (claim.minIdleMs)

  Returns the generation (>= 1) when renewed, 0 when the lease is another consumer's or nobody's.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
-- A counter deleted by hand: start a new one rather than report no generation.
return tonumber(redis.call('GET', KEYS[2])) or redis.call('INCRBY', KEYS[2], 1)
