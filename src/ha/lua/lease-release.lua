--[[
icwatch high availability: give the leader lease up (graceful shutdown, or a step-down), only if this replica
still holds it under its fence, and wake the standbys so that one takes over without waiting for a poll.

KEYS[1]  {P}:leader  STRING (the holder's replica id)
KEYS[2]  {P}:meta    HASH (field fence)
ARGV[1]  this replica's id
ARGV[2]  the fence this replica took the lease with
ARGV[3]  the channel standbys listen on ({P}:leader:released)
Returns  1 when released, 0 when the lease was not (or no longer) this replica's
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('HGET', KEYS[2], 'fence') ~= ARGV[2] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[3], ARGV[1])
return 1
