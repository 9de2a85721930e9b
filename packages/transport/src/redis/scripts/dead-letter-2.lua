--[[
  Moves one entry to its dead-letter stream and acks it, in one atomic step, so a crash can neither lose
  the entry nor leave it in both places. The copy is made inside Redis from the stored entry: byte for
  byte, whatever the entry holds (a consumer reads fields as UTF-8 text, which would alter other bytes).
  An entry larger than maxPayloadBytes keeps only a prefix of each long value, and an entry of more than
  1,000 fields keeps the rest of them in one value (see dead-letter-copy.lua).
  A move runs once however often it is retried: every write is checked before the first one (ACL, the
  group), the copy is added only while the entry is still pending in the group, and the ack that follows
  cannot be refused. So a move retried after a refusal, or after a reply lost on the way back, never adds a
  second dead letter.
  On a Redis Cluster both keys must hash to one slot (hash tags: {orders}.created, {orders}.created:dlq).

  KEYS[1] the source stream
  KEYS[2] the dead-letter stream
  ARGV[1] the group
  ARGV[2] the entry id
  ARGV[3] MAXLEN of the dead-letter stream (XADD MAXLEN ~ n), or '' for none
  ARGV[4] maxPayloadBytes, or '' for none
  ARGV[5] bytes of each value an oversized entry's copy keeps
  ARGV[6..] dlq.* field/value pairs appended to the copy

  Returns 1 when the entry was copied and acked; 0 when it was gone (trimmed or deleted) and only acked;
  2 when it was not pending in the group any more (acked already: an earlier run of this move went through)
  and nothing was done.
]]
--- @include "script-calls"
--- @include "dead-letter-copy"

local group, id = ARGV[1], ARGV[2]
mustBeAllowed(KEYS[2], 'XADD', KEYS[2], '*', 'f', 'v')
mustBeAllowed(KEYS[1], 'XACK', KEYS[1], group, id)
local found = call(KEYS[1], 'XRANGE', KEYS[1], id, id)
if #found == 0 then
  call(KEYS[1], 'XACK', KEYS[1], group, id)
  return 0
end
-- Also raises NOGROUP (the group was deleted) before anything is written.
if #call(KEYS[1], 'XPENDING', KEYS[1], group, id, id, 1) == 0 then return 2 end
local fields = found[1][2]
local maxBytes = tonumber(ARGV[4])
local keep = nil
if maxBytes and entryBytes(fields) > maxBytes then keep = tonumber(ARGV[5]) end
local extra = {}
for i = 6, #ARGV do extra[#extra + 1] = ARGV[i] end
-- The first write: refused (OOM, a dead-letter key of another type), it leaves nothing behind.
addDeadLetter(KEYS[2], ARGV[3], fields, keep, extra)
call(KEYS[1], 'XACK', KEYS[1], group, id)
return 1
