--[[
  Takes one token of a rate limit shared by every consumer of a group: at most ARGV[1] handler runs per ARGV[2]
  ms, in bursts of up to ARGV[1] after a quiet spell. A token bucket kept as one number (GCRA): the time at
  which the bucket is full again. Redis's clock (TIME), so consumers whose clocks differ share one limit. One
  key: fits Redis Cluster.

  KEYS[1] the limit's state (a string, ms; <keyPrefix>nestream:rate-limit:<bytes of group>:<group>:<pattern>)
  ARGV[1] max: runs per window
  ARGV[2] perMs: the window, ms

  Returns 0 when a token was taken, else how many ms to wait before one is free.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local interval = window / max
local full = tonumber(redis.call('GET', KEYS[1]) or '0')
if full < now then full = now end
local after = full + interval
-- The bucket holds `max` tokens: `after` may be at most one window ahead of now.
local wait = after - now - window
if wait > 0 then return math.ceil(wait) end
redis.call('SET', KEYS[1], string.format('%.3f', after), 'PX', math.ceil(after - now))
return 0
