--[[
icwatch high availability: extend the leader lease, only if this replica still holds it under its fence.

KEYS[1]  {P}:leader  STRING (the holder's replica id)
KEYS[2]  {P}:meta    HASH (field fence)
ARGV[1]  this replica's id
ARGV[2]  lease length, ms
ARGV[3]  the fence this replica took the lease with
Returns  {'RENEWED'} | {'LOST', holder or '', current fence or ''}
]]
local holder = redis.call('GET', KEYS[1])
local fence = redis.call('HGET', KEYS[2], 'fence')
if holder ~= ARGV[1] or fence ~= ARGV[3] then
  return {'LOST', holder or '', fence or ''}
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'RENEWED'}
