--[[
  A consumer's heartbeat in the membership set of a group's ordered partitioned pattern, and how many of the
  group's consumers are alive: how many partitions each may own (ceil(partitions / live)) follows from it.
  Scored with Redis's clock (TIME), not the consumers', so consumers whose clocks differ agree on who is alive.
  Members without a heartbeat for longer than the lease time are removed (a crashed consumer's partitions
  expire at the same time), so the set holds the live consumers only. One key: fits Redis Cluster.

  KEYS[1] the membership sorted set (<keyPrefix>nestream:partition-consumers:<bytes of group>:<group>:<pattern>)
  ARGV[1] the consumer
  ARGV[2] the lease time, ms (claim.minIdleMs)

  Returns the number of live members, this one included.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now - ttl))
return redis.call('ZCARD', KEYS[1])
