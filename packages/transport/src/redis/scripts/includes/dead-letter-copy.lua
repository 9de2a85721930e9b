-- Shared by dead-letter-2.lua and read-within-size-2.lua (pasted in by scripts/build-lua.mjs).

-- redis.call(command, ...) whose error names the command and `key`: inside a script, Redis refuses a command
-- the user may not run with only "The user executing the script can't run this command"; that becomes a
-- NOPERM naming both, as for a command sent directly (the consumer's logs and PermissionError need them).
local function call(key, command, ...)
  local reply = redis.pcall(command, ...)
  if type(reply) == 'table' and reply.err then
    if string.find(reply.err, "can't run this command", 1, true) then
      error({ err = "NOPERM this user has no permissions to run the '" .. string.lower(command) ..
        "' command on key \"" .. key .. "\" (in a script of the transport)" })
    end
    error({ err = reply.err .. ' (' .. command .. ' on "' .. key .. '")' })
  end
  return reply
end

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

-- XADDs a copy of an entry's fields to the dead-letter stream `dlq`, byte for byte, followed by the `extra`
-- field/value pairs (dlq.*). With `keep` (an oversized entry), each value longer than keep bytes is cut to a
-- prefix, and dlq.<field>.bytes (its full size) and dlq.<field>.truncated ('true') record the cut.
local function addDeadLetter(dlq, maxlen, fields, keep, extra)
  local args = { dlq, 'XADD', dlq }
  if maxlen ~= '' then
    args[4] = 'MAXLEN'; args[5] = '~'; args[6] = maxlen
  end
  args[#args + 1] = '*'
  local cuts = {}
  for i = 1, #fields, 2 do
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
  return call(unpack(args))
end
