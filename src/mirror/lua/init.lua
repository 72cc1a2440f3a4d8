--[[
icwatch mirror: read meta, or start a new epoch when the mirror starts from nothing (meta missing).

A new epoch starts the change stream over (seq 0), so an old stream left without its meta is deleted.

KEYS[1]  {P}:meta     HASH
KEYS[2]  {P}:ids      SET
KEYS[3]  {P}:changes  STREAM
ARGV[1]  the new epoch to use if meta is missing
Returns  {epoch, seq, created ('1' = a new epoch was started, '0' = meta existed)}
]]
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch then
  return {epoch, redis.call('HGET', KEYS[1], 'seq') or '0', '0'}
end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'seq', '0', 'users', redis.call('SCARD', KEYS[2]), 'syncing', '0')
return {ARGV[1], '0', '1'}
