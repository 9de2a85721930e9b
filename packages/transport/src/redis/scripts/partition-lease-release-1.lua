--[[
  Gives up a consumer's lease on an ordered partition (compare and delete): ends the lease only if this
  consumer holds it, so a lease that expired and was taken by another consumer meanwhile is left to it.
  PEXPIRE 0 deletes the key at once, as DEL would; it is the command renewals use already (one ACL permission
  fewer, and unlike DEL it can be checked without side effects at listen()).

  KEYS[1] the partition's lease key (<partition stream>:owner:<group>)
  ARGV[1] the consumer

  Returns 1 when given up, 0 when the lease was not this consumer's.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], 0)
return 1
