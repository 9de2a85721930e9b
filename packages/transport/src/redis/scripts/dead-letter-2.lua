--[[
  Moves one entry to its dead-letter stream and acks it, in one atomic step, so a crash can neither lose
  the entry nor leave it in both places. The copy is made inside Redis from the stored entry: byte for
  byte, whatever the entry holds (a consumer reads fields as UTF-8 text, which would alter other bytes).
  An entry larger than maxPayloadBytes keeps only a prefix of each long value (see dead-letter-copy.lua),
  so dead-lettering it does not copy it whole.
  On a Redis Cluster both keys must hash to one slot (hash tags: {orders}.created, {orders}.created:dlq).

  KEYS[1] the source stream
  KEYS[2] the dead-letter stream
  ARGV[1] the group
  ARGV[2] the entry id
  ARGV[3] MAXLEN of the dead-letter stream (XADD MAXLEN ~ n), or '' for none
  ARGV[4] maxPayloadBytes, or '' for none
  ARGV[5] bytes of each value an oversized entry's copy keeps
  ARGV[6..] dlq.* field/value pairs appended to the copy

  Returns 1 when the entry was copied and acked; 0 when it was gone (trimmed or deleted) and only acked.
]]
--- @include "dead-letter-copy"

local group, id = ARGV[1], ARGV[2]
local found = call(KEYS[1], 'XRANGE', KEYS[1], id, id)
if #found == 0 then
  call(KEYS[1], 'XACK', KEYS[1], group, id)
  return 0
end
local fields = found[1][2]
local maxBytes = tonumber(ARGV[4])
local keep = nil
if maxBytes and entryBytes(fields) > maxBytes then keep = tonumber(ARGV[5]) end
local extra = {}
for i = 6, #ARGV do extra[#extra + 1] = ARGV[i] end
addDeadLetter(KEYS[2], ARGV[3], fields, keep, extra)
call(KEYS[1], 'XACK', KEYS[1], group, id)
return 1
