--[[
  Counts the entries of a stream that were removed (trimmed by a producer's MAXLEN or MINID, by XTRIM, or
  XDELed) before a group read them, and records them as counted: the group's entries-read counter is moved
  past them (XGROUP SETID to the same last-delivered-id, ENTRIESREAD = entries removed so far), so each lost
  entry is counted once, by whichever consumer of the group checks first. Nothing is delivered or skipped by it:
  the group's last-delivered-id stays where it is.

  Lost entries can only be counted while the group is behind the stream's first entry (its last-delivered-id
  older than every entry left): then every entry added after that id and no longer in the stream was never
  read by the group. Their number is entries-added - length - entries-read; the counter Redis keeps for the
  group (entries-read) is what makes it exact, so when Redis does not know it (nil: a group created at '$' on a
  stream holding entries, or XDEL tombstones past the group), the script sets it where it can be derived (the
  group at 0-0 or at the last entry ever added) and otherwise counts nothing.

  KEYS[1] the stream
  ARGV[1] the group

  Returns { lost, known }: lost = entries counted now (0 if none); known = 0 when the group's position is not
  known to Redis, so lost entries, if any, could not be counted; -1 on Redis before 7.0 (no entries-added).
]]
local stream = redis.pcall('XINFO', 'STREAM', KEYS[1])
if type(stream) == 'table' and stream.err then
  if string.find(stream.err, 'no such key', 1, true) then return { 0, 1 } end -- no stream yet: the reader recreates it
  return redis.error_reply(stream.err)
end

local function field(list, name)
  for i = 1, #list, 2 do
    if list[i] == name then return list[i + 1] end
  end
  return nil
end

-- Stream ids compared as numbers too large for Lua's doubles: by length, then as text (Redis writes no leading zeros).
local function part(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end
local function compare(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  local c = part(ams, bms)
  if c ~= 0 then return c end
  return part(aseq, bseq)
end

local length = field(stream, 'length')
local added = field(stream, 'entries-added')
local first = field(stream, 'recorded-first-entry-id')
local lastAdded = field(stream, 'last-generated-id')

if not added then return { 0, -1 } end -- Redis before 7.0 keeps no such counters

local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
local delivered, read
for _, g in ipairs(groups) do
  if field(g, 'name') == ARGV[1] then
    delivered = field(g, 'last-delivered-id')
    read = field(g, 'entries-read')
  end
end
if not delivered then return { 0, 1 } end -- no such group (yet)

local removed = added - length
if not read then
  -- Redis lost count of the group's position: set it where it is certain, so later checks can count.
  if delivered == '0-0' then read = 0
  elseif delivered == lastAdded then read = added
  else return { 0, 0 } end
  redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], delivered, 'ENTRIESREAD', read)
end

local behind
if length == 0 then behind = compare(delivered, lastAdded) < 0 else behind = compare(delivered, first) < 0 end
if not behind then return { 0, 1 } end
local lost = removed - read
if lost <= 0 then return { 0, 1 } end
redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], delivered, 'ENTRIESREAD', removed)
return { lost, 1 }
