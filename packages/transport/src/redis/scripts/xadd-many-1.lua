--[[
  Adds many entries to one stream in order (client.emitMany()), so one call replaces a command per entry.

  KEYS[1] the stream
  ARGV[1] MAXLEN for approximate trimming (XADD MAXLEN ~ n), or '' for none
  ARGV[2..] per entry, either
            0, data, cid        a plain event: the field names "data" and "cid" are added here
                                (two arguments fewer to send and to turn into Lua strings), or
            n, n field/value arguments

  Returns the new entry ids, in order.
]]
local key = KEYS[1]
local maxlen = ARGV[1]
local ids = {}
local i = 2
local n = #ARGV
while i <= n do
  local c = tonumber(ARGV[i])
  if c == 0 then
    if maxlen == '' then
      ids[#ids + 1] = redis.call('XADD', key, '*', 'data', ARGV[i + 1], 'cid', ARGV[i + 2])
    else
      ids[#ids + 1] = redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 'data', ARGV[i + 1], 'cid', ARGV[i + 2])
    end
    i = i + 3
  else
    local args = { key }
    if maxlen ~= '' then args[2] = 'MAXLEN'; args[3] = '~'; args[4] = maxlen end
    args[#args + 1] = '*'
    for j = i + 1, i + c do args[#args + 1] = ARGV[j] end
    ids[#ids + 1] = redis.call('XADD', unpack(args))
    i = i + c + 1
  end
end
return ids
