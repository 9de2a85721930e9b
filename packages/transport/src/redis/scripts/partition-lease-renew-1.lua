--[[
  Renews a consumer's lease on an ordered partition if, and only if, it still holds it: a lease that expired
  (and may have been taken by another consumer since) is never extended.

  KEYS[1] the partition's lease key (<partition stream>:owner)
  ARGV[1] the consumer
  ARGV[2] the lease time, ms (claim.minIdleMs)

  Returns 1 when renewed, 0 when the lease is another consumer's or nobody's.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
