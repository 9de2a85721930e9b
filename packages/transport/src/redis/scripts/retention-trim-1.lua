--[[
  Safe retention: trims a stream only below what every consumer group of it has read and acknowledged, and,
  only when asked, to an emergency cap that drops unread entries too. One atomic step, so a group created
  or moved back meanwhile is taken into account.

  A group's floor is its oldest pending entry or, with nothing pending, its last-delivered id: every entry
  below it was delivered and acked. Entries below the lowest floor of all groups may go; with no group, none
  may (nothing says who will read them). Trimming is approximate (XTRIM ... ~, whole stream nodes), so
  bounded: at most 100 nodes (stream-node-max-entries each) per XTRIM.

  KEYS[1] the stream
  ARGV[1] maxLen: trim read-and-acked entries while the stream is longer than this, or ''
  ARGV[2] maxAgeMs: trim read-and-acked entries older than this (Redis's clock), or ''
  ARGV[3] hardMaxLen: then trim to about this many entries even if unread, or ''

  Returns { entries trimmed safely, the floor id or '', the group that sets it or '',
            entries trimmed by the hard cap, 1 if the hard cap dropped entries at or above the floor else 0,
            the length after }
]]
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return { 0, '', '', 0, 0, 0 } end

local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  if am ~= bm then return am < bm end
  return as < bs
end

local floor, holder = nil, ''
for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
  local name, last
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then last = g[i + 1] end
  end
  local summary = redis.call('XPENDING', key, name)
  local groupFloor = last
  if summary[1] > 0 then groupFloor = summary[2] end
  if floor == nil or less(groupFloor, floor) then
    floor = groupFloor
    holder = name
  end
end

local trimmed = 0
if floor ~= nil then
  if ARGV[1] ~= '' then
    local excess = redis.call('XLEN', key) - tonumber(ARGV[1])
    if excess > 0 then trimmed = trimmed + redis.call('XTRIM', key, 'MINID', '~', floor, 'LIMIT', excess) end
  end
  if ARGV[2] ~= '' then
    local now = redis.call('TIME')
    local oldest = string.format('%d-0', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[2]))
    local bound = floor
    if less(oldest, floor) then bound = oldest end
    trimmed = trimmed + redis.call('XTRIM', key, 'MINID', '~', bound)
  end
end

local hard, droppedUnread = 0, 0
if ARGV[3] ~= '' and redis.call('XLEN', key) > tonumber(ARGV[3]) then
  hard = redis.call('XTRIM', key, 'MAXLEN', '~', ARGV[3])
  local first = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)
  if hard > 0 and (floor == nil or first[1] == nil or less(floor, first[1][1])) then droppedUnread = 1 end
end

return { trimmed, floor or '', holder, hard, droppedUnread, redis.call('XLEN', key) }
