--[[
icwatch high availability: take the leader lease if it is free, and start a new fencing term.

The lease is a plain string key holding the leader's replica id, with a TTL (SET NX PX): the pattern of the
Redis documentation for a single-instance lock (https://redis.io/docs/latest/develop/use/patterns/distributed-locks/).
Each takeover increments meta's `fence`; the apply script refuses writes that carry another fence, so a deposed
leader's late writes never land (fencing tokens, as in Kleppmann's "How to do distributed locking").
A replica whose own id is still on the key (a restart with a fixed ha.replicaId) takes it over too: its previous
incarnation's writes must be fenced off like anyone else's.

KEYS[1]  {P}:leader  STRING (the holder's replica id)
KEYS[2]  {P}:meta    HASH (field fence)
ARGV[1]  this replica's id
ARGV[2]  lease length, ms
Returns  {'ACQUIRED', fence} | {'TAKEN', holder, remaining ms}
]]
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return {'TAKEN', holder, redis.call('PTTL', KEYS[1])}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local fence = redis.call('HINCRBY', KEYS[2], 'fence', 1)
return {'ACQUIRED', tostring(fence)}
