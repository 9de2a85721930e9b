--[[
  Idempotent XADD: adds the entry unless an entry with the same idempotency key was added within the window,
  in one atomic step, so two producers (or a producer and its own resend) racing with one key add one entry.

  KEYS[1] the stream
  KEYS[2] the idempotency key's record (a string holding the first entry's id, expiring after the window),
          in the stream's hash slot
  ARGV[1] the window, in ms
  ARGV[2..] XADD's arguments after the stream: [MAXLEN ~ n] * field value ...

  Returns { the entry id, 1 if it was added now or 0 if the key was seen within the window (nothing added) }
]]
local first = redis.call('GET', KEYS[2])
if first then return { first, 0 } end
local id = redis.call('XADD', KEYS[1], unpack(ARGV, 2))
redis.call('SET', KEYS[2], id, 'PX', ARGV[1])
return { id, 1 }
