-- Shared by dead-letter-2.lua and read-within-size-2.lua (pasted in by scripts/build-lua.mjs, after
-- script-calls.lua).

-- Bytes of an entry as maxPayloadBytes counts them: every field name and value.
local function entryBytes(fields)
  local n = 0
  for i = 1, #fields do n = n + #fields[i] end
  return n
end

-- The first `keep` bytes of s, cut before a UTF-8 character rather than through it (a byte 10xxxxxx
-- continues a character, which has at most 4 bytes), so a text prefix stays valid text.
local function prefix(s, keep)
  local cut = keep
  for _ = 1, 3 do
    local b = string.byte(s, cut + 1)
    if cut == 0 or not b or b < 128 or b >= 192 then break end
    cut = cut - 1
  end
  return string.sub(s, 1, cut)
end

-- Fields a dead-letter copy keeps as they are. One command from a script takes at most ~8,000 values (unpack
-- and the call stop at Lua's C stack limit, LUAI_MAXCSTACK), and each field kept may add two marker fields
-- (a cut value): 1,000 fields are at most 6,000 values with their markers, whatever maxPayloadFields allows.
local COPY_FIELDS_MAX = 1000

-- XADDs a copy of an entry's fields to the dead-letter stream `dlq`, byte for byte, followed by the `extra`
-- field/value pairs (dlq.*). With `keep` (an oversized entry), each value longer than keep bytes is cut to a
-- prefix, and dlq.<field>.bytes (its full size) and dlq.<field>.truncated ('true') record the cut.
-- The fields past the first COPY_FIELDS_MAX go in one value, so that nothing is lost: dlq.fields.rest, a JSON
-- array [name, value, name, value, ...] of them in order, byte for byte (cjson passes bytes that are not
-- UTF-8 through and escapes control characters), and dlq.fields.rest.count, how many fields it holds; with
-- `keep` its long values are cut too, and dlq.fields.rest.truncated ('true') says so.
local function addDeadLetter(dlq, maxlen, fields, keep, extra)
  local args = { dlq, 'XADD', dlq }
  if maxlen ~= '' then
    args[4] = 'MAXLEN'; args[5] = '~'; args[6] = maxlen
  end
  args[#args + 1] = '*'
  local kept = math.min(#fields, 2 * COPY_FIELDS_MAX)
  local cuts = {}
  for i = 1, kept, 2 do
    local name, value = fields[i], fields[i + 1]
    if keep and #value > keep then
      cuts[#cuts + 1] = name
      cuts[#cuts + 1] = #value
      value = prefix(value, keep)
    end
    args[#args + 1] = name
    args[#args + 1] = value
  end
  for i = 1, #extra do args[#args + 1] = extra[i] end
  for i = 1, #cuts, 2 do
    args[#args + 1] = 'dlq.' .. cuts[i] .. '.bytes'
    args[#args + 1] = tostring(cuts[i + 1])
    args[#args + 1] = 'dlq.' .. cuts[i] .. '.truncated'
    args[#args + 1] = 'true'
  end
  if #fields > kept then
    local rest, restCut = {}, false
    for i = kept + 1, #fields do
      local value = fields[i]
      -- kept is even: fields[kept + 1] is a name, values are at even indices
      if keep and i % 2 == 0 and #value > keep then
        value = prefix(value, keep)
        restCut = true
      end
      rest[#rest + 1] = value
    end
    args[#args + 1] = 'dlq.fields.rest'
    args[#args + 1] = cjson.encode(rest)
    args[#args + 1] = 'dlq.fields.rest.count'
    args[#args + 1] = tostring(#rest / 2)
    if restCut then
      args[#args + 1] = 'dlq.fields.rest.truncated'
      args[#args + 1] = 'true'
    end
  end
  return call(unpack(args))
end
