--[[
  Moves dead-letter entries back to their source stream (StreamsAdmin redrive, `nestream dlq redrive`).
  Each entry is re-added and deleted from the dead-letter stream inside this one script, so a client
  killed half way leaves every entry in exactly one of the two streams, and a rerun moves only the rest.
  Both writes are checked (ACL) before the first one: a command refused inside a script raises after the
  earlier writes are done, so a refused XDEL would leave the re-added entry behind and a rerun would add it
  again. The XADD comes first: should it fail anyway (OOM), nothing is written; a dead letter is never
  deleted before its entry is back.

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
    -2 another dlq.reason than ARGV[1], -3 a dead letter of an oversized entry, which kept only a prefix of
    its long values (a dlq.<field>.truncated field): putting it back would publish a cut payload,
    -4 an entry of more fields than one XADD from a script can take (REDRIVE_VALUES_MAX values): left in
    the dead-letter stream.
]]
--- @include "script-calls"

-- Values one XADD from a script may take: the call stops at Lua's C stack limit (LUAI_MAXCSTACK, 8,000).
local REDRIVE_VALUES_MAX = 7000

local dlq = KEYS[1]
local source = KEYS[2]
local reason = ARGV[1]
mustBeAllowed(source, 'XADD', source, '*', 'f', 'v')
mustBeAllowed(dlq, 'XDEL', dlq, '0-1')
local results = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local found = redis.call('XRANGE', dlq, id, id)
  if #found == 0 then
    results[#results + 1] = 0
  else
    local fields = found[1][2]
    local args = { source, '*' }
    local from, why, count, cut, rest = nil, nil, 0, false, nil
    for j = 1, #fields, 2 do
      local name, value = fields[j], fields[j + 1]
      if name == 'dlq.stream' then from = value
      elseif name == 'dlq.reason' then why = value
      elseif name == 'redrive.count' then count = tonumber(value) or 0
      elseif name == 'dlq.fields.rest' then rest = value -- the fields past the first 1,000, in order
      elseif string.sub(name, 1, 4) == 'dlq.' and string.sub(name, -10) == '.truncated' then cut = true
      elseif string.sub(name, 1, 4) ~= 'dlq.' and name ~= 'redrive.from' then
        args[#args + 1] = name
        args[#args + 1] = value
      end
    end
    if from ~= source then
      results[#results + 1] = -1
    elseif reason ~= '' and why ~= reason then
      results[#results + 1] = -2
    elseif cut then
      results[#results + 1] = -3
    else
      local wide = #args + 4 > REDRIVE_VALUES_MAX
      if rest and not wide then
        local packed = cjson.decode(rest)
        wide = #args + 4 + #packed > REDRIVE_VALUES_MAX
        if not wide then
          for j = 1, #packed do args[#args + 1] = packed[j] end
        end
      end
      if wide then
        results[#results + 1] = -4
      else
        args[#args + 1] = 'redrive.count'
        args[#args + 1] = tostring(count + 1)
        args[#args + 1] = 'redrive.from'
        args[#args + 1] = id
        results[#results + 1] = call(source, 'XADD', unpack(args))
        call(dlq, 'XDEL', dlq, id)
      end
    end
  end
end
return results
