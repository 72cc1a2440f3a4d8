--[[
icwatch mirror: compare and set the operator's request about held removals (`icwatch removals --apply | --discard`,
README "Mass deletions are held"), field `request` of {P}:held:info. One request at a time; the CLI writes it, the
leader's writer takes it (`taken:<request>`) before applying it, and a CLI that gave up withdraws it: compare and
set, so that a withdrawal and a take cannot both succeed.

KEYS[1]  {P}:held       SET
KEYS[2]  {P}:held:info  HASH
ARGV[1]  the value expected ('' = no request)
ARGV[2]  the value to set ('' = remove the field); finding it already set succeeds too (a retry)
Returns  {'OK'} | {'NONE'} (no removals are held) | {'OTHER', the current value}
]]
if redis.call('SCARD', KEYS[1]) == 0 then return {'NONE'} end
local current = redis.call('HGET', KEYS[2], 'request') or ''
if current ~= ARGV[1] and current ~= ARGV[2] then return {'OTHER', current} end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[2], 'request')
else
  redis.call('HSET', KEYS[2], 'request', ARGV[2])
end
return {'OK'}
