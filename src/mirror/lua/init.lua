--[[
icwatch mirror: read meta, or start a new epoch when the mirror cannot be trusted as it is (README "Integrity"):
- meta is missing: the mirror starts from nothing (Redis lost its data, or a first start);
- meta `writing` is 1, or the change stream is ahead of meta seq: a write failed halfway (apply.lua sets the marker
  first and clears it last; Redis does not roll back a script that fails after it has written);
- meta seq is behind what this writer committed in the same epoch: Redis lost acknowledged writes (a failover to a
  replica that lagged, a restart from an older snapshot). Only the writer that committed them can tell: a new leader
  passes no committed seq, and a writer whose fence is no longer meta's judges nothing (it is about to step down).
A new epoch starts the change stream over (seq 0), so the old stream is deleted; the users stay as they are, and the
writer asks ICWS for a full replace, which converges them. Readers see the new epoch and start again from a snapshot.

KEYS[1]  {P}:meta     HASH
KEYS[2]  {P}:ids      SET
KEYS[3]  {P}:changes  STREAM
ARGV[1]  the new epoch to use if one must start
ARGV[2]  the epoch the writer last committed in ('' = none: a new writer)
ARGV[3]  the seq the writer last committed in that epoch
ARGV[4]  the writer's fence ('' = high availability off)
Returns  {epoch, seq, started}: started '' = meta is trusted as it is, 'created' = meta was missing,
         'incomplete' = a write had failed halfway, 'lost' = Redis lost committed writes
]]
local epoch, seq, writing, fence = unpack(redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'writing', 'fence'))
local function start(why)
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'seq', '0', 'users', redis.call('SCARD', KEYS[2]), 'syncing', '0', 'writing', '0')
  return {ARGV[1], '0', why}
end
if not epoch then return start('created') end
seq = seq or '0'
-- A deposed writer decides nothing: its next write is refused by the fence.
if ARGV[4] ~= '' and fence ~= ARGV[4] then return {epoch, seq, ''} end
if writing == '1' then return start('incomplete') end
local top = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
if top and tonumber(string.match(top[1], '^(%d+)')) > tonumber(seq) then return start('incomplete') end
if ARGV[2] == epoch and tonumber(seq) < tonumber(ARGV[3]) then return start('lost') end
return {epoch, seq, ''}
