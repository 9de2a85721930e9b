--[[
  Moves dead-letter entries back to their source stream (StreamsAdmin redrive, `nestream dlq redrive`).
  Each entry is re-added and deleted from the dead-letter stream inside this one script, so a client
  killed half way leaves every entry in exactly one of the two streams, and a rerun moves only the rest.

  KEYS[1] the dead-letter stream
  KEYS[2] the source stream (an entry whose dlq.stream names another stream is left alone)
  ARGV[1] only entries with this dlq.reason, or '' for any
  ARGV[2..] the dead-letter entry ids

  The re-added entry gets the original fields (the dlq.* ones dropped), plus
    redrive.count  how many times it was redriven (1 the first time; the dead-letter entry of an entry
                   that failed again keeps the field, so the count grows)
    redrive.from   the dead-letter entry id it came from

  Returns, per id in order: the new entry id in the source stream, or
    0 not in the dead-letter stream (already redriven or purged), -1 from another source stream,
    -2 another dlq.reason than ARGV[1].
]]
local dlq = KEYS[1]
local source = KEYS[2]
local reason = ARGV[1]
local results = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local found = redis.call('XRANGE', dlq, id, id)
  if #found == 0 then
    results[#results + 1] = 0
  else
    local fields = found[1][2]
    local args = { source, '*' }
    local from, why, count = nil, nil, 0
    for j = 1, #fields, 2 do
      local name, value = fields[j], fields[j + 1]
      if name == 'dlq.stream' then from = value
      elseif name == 'dlq.reason' then why = value
      elseif name == 'redrive.count' then count = tonumber(value) or 0
      elseif string.sub(name, 1, 4) ~= 'dlq.' and name ~= 'redrive.from' then
        args[#args + 1] = name
        args[#args + 1] = value
      end
    end
    if from ~= source then
      results[#results + 1] = -1
    elseif reason ~= '' and why ~= reason then
      results[#results + 1] = -2
    else
      args[#args + 1] = 'redrive.count'
      args[#args + 1] = tostring(count + 1)
      args[#args + 1] = 'redrive.from'
      args[#args + 1] = id
      results[#results + 1] = redis.call('XADD', unpack(args))
      redis.call('XDEL', dlq, id)
    end
  end
end
return results
