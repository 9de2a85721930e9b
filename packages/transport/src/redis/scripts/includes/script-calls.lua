-- Shared by the scripts that write (pasted in by scripts/build-lua.mjs).

-- The NOPERM error of a command the script's user may not run, naming the command and `key` as for a command
-- sent directly (the consumer's logs and PermissionError need them): inside a script, Redis says only "The
-- user executing the script can't run this command".
local function noPermission(key, command)
  return { err = "NOPERM this user has no permissions to run the '" .. string.lower(command) ..
    "' command on key \"" .. key .. "\" (in a script of the transport)" }
end

-- redis.call(command, ...) whose error names the command and `key`.
local function call(key, command, ...)
  local reply = redis.pcall(command, ...)
  if type(reply) == 'table' and reply.err then
    if string.find(reply.err, "can't run this command", 1, true) then error(noPermission(key, command)) end
    error({ err = reply.err .. ' (' .. command .. ' on "' .. key .. '")' })
  end
  return reply
end

-- Whether the script's user may run the command (redis.acl_check_cmd, Redis 7.0+; on Redis 6.2 it is not
-- known before the command runs: true).
local function isAllowed(command, ...)
  return not redis.acl_check_cmd or redis.acl_check_cmd(command, ...)
end

-- Raises NOPERM unless the script's user may run the command on `key`. Asked before a script's first write:
-- a command refused inside a script raises after the earlier writes are done (nothing is rolled back), so
-- a move whose second step is refused would leave its first step behind and add it again on every retry.
-- ACL rules cannot change while a script runs, so the answer holds for the whole script.
-- redis.acl_check_cmd is Redis 7.0+; on Redis 6.2 the command itself is refused, as before.
local function mustBeAllowed(key, command, ...)
  if not isAllowed(command, ...) then error(noPermission(key, command)) end
end
