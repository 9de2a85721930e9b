--[[
  Reads a group's next new entries for one consumer (XREADGROUP ... >, as the reader would) and keeps those
  larger than maxPayloadBytes inside Redis: each is dead-lettered (reason decode, a prefix of each long value,
  see dead-letter-copy.lua) and acked in the same atomic step, so no consumer ever receives it from here.
  The entries read are held in Lua memory during the call, as a plain XREADGROUP holds them in its reply.
  On a Redis Cluster both keys must hash to one slot (hash tags: {orders}.created, {orders}.created:dlq).

  KEYS[1] the stream
  KEYS[2] the dead-letter stream
  ARGV[1] the group
  ARGV[2] the consumer
  ARGV[3] COUNT: entries read at most
  ARGV[4] maxPayloadBytes
  ARGV[5] bytes of each value an oversized entry's dead letter keeps
  ARGV[6] MAXLEN of the dead-letter stream (XADD MAXLEN ~ n), or '' for none
  ARGV[7] '1' to dead-letter oversized entries, '0' to only ack them (deadLetter: false)
  ARGV[8] name of the dead-letter field for the source entry id (dlq.id)
  ARGV[9] name of the dead-letter field for the error message (dlq.error.message)
  ARGV[10..] the other dlq.* field/value pairs, the same for every dead letter of this call

  Returns { entries, oversized, full }: entries as XREADGROUP gives them ({ id, fields }), oversized as
  { id, error message } pairs of the entries dead-lettered or acked, full = 1 when COUNT entries were read
  (more may be waiting), else 0.
  Nothing after the XREADGROUP may raise: an error then would leave every entry of the read pending for this
  consumer with nobody holding it. So an oversized entry this user may not move (ACL: XADD to the dead-letter
  stream, XACK), or whose copy Redis refuses anyway, is returned with the others, still pending: the
  consumer dead-letters it the usual way (and says why that fails, and tries again). The ACL is asked only
  when an oversized entry shows up, so a read of entries within the bound costs nothing more.
]]
--- @include "script-calls"
--- @include "dead-letter-copy"

local group, consumer, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local maxBytes, keep = tonumber(ARGV[4]), tonumber(ARGV[5])
local copies = ARGV[7] == '1'
local movable = nil -- whether this user may move an oversized entry (XADD the copy, XACK): asked once, if needed
local reply = call(KEYS[1], 'XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', KEYS[1], '>')
if not reply then return { {}, {}, 0 } end
local read = reply[1][2]
local n = #read
-- `entries` stays `read` itself until an oversized entry shows up (the common case builds no new table).
local entries, oversized = read, {}
for i = 1, n do
  local entry = read[i]
  local bytes = entryBytes(entry[2])
  if bytes > maxBytes then
    if entries == read then
      entries = {}
      for j = 1, i - 1 do entries[j] = read[j] end
    end
    local message = 'entry is ' .. bytes .. ' bytes, larger than maxPayloadBytes (' .. maxBytes .. ' bytes)'
    if movable == nil then
      movable = isAllowed('XACK', KEYS[1], group, entry[1]) and (not copies or isAllowed('XADD', KEYS[2], '*', 'f', 'v'))
    end
    local copied = movable
    if copied and copies then
      local extra = { ARGV[8], entry[1], ARGV[9], message }
      for j = 10, #ARGV do extra[#extra + 1] = ARGV[j] end
      copied = pcall(addDeadLetter, KEYS[2], ARGV[6], entry[2], keep, extra)
    end
    if copied then
      call(KEYS[1], 'XACK', KEYS[1], group, entry[1])
      oversized[#oversized + 1] = { entry[1], message }
      read[i] = nil -- collectable before the next oversized value is copied
    else
      entries[#entries + 1] = entry
    end
  elseif entries ~= read then
    entries[#entries + 1] = entry
  end
end
return { entries, oversized, n == count and 1 or 0 }
