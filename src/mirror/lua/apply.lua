--[[
icwatch mirror: apply one chunk of writes computed by the daemon, atomically (README: The Redis mirror).

The daemon computes every write in Node (values are JSON built there: never cjson, which escapes '/' and
renumbers) and sends only the result. The script first checks that meta's epoch and seq are those the chunk was
computed against; if not (another writer, or a retry of a chunk whose reply was lost) it writes nothing, so a
retry after an unknown outcome is idempotent.

Before that, with high availability, it checks the writer's fence against meta's `fence` (incremented by
lease-acquire.lua at each takeover): a leader that lost its lease (frozen, cut off from Redis) may still have
writes queued or in flight, and none of them may land once another replica has taken over.

Redis does not roll back a script that fails after it has written (NOPERM from an ACL, WRONGTYPE, OOM after the
first write, a killed script: https://redis.io/docs/latest/develop/interact/programmability/eval-intro/). So the
first write sets meta `writing` to 1 and the last sets it back to 0: a script that failed halfway leaves it at 1, and
neither this script nor the next load (init.lua) trusts the mirror then: the writer starts a new epoch and asks ICWS
for a full replace (README "Integrity").

All keys share the hash tag {P}, so the user and index keys built here live in the same Cluster slot.

KEYS[1]  {P}:meta     HASH
KEYS[2]  {P}:ids      SET
KEYS[3]  {P}:changes  STREAM
KEYS[4]  {P}:held     SET   (ids whose removal the delete guard holds)
KEYS[5]  {P}:held:info HASH (about the hold; deleted with the last held id)
KEYS[6]  {P}:statuses HASH  (presence: the status catalogue, statusId → entry JSON)
ARGV[1]  expected epoch
ARGV[2]  expected seq (meta seq the chunk was computed against)
ARGV[3]  user key prefix   "{P}:user:"
ARGV[4]  index key prefix  "{P}:idx:"
ARGV[5]  notify channel    "{P}:notify" (the new seq is published when the chunk wrote entries)
ARGV[6]  change stream length (XTRIM MAXLEN ~ after the entries)
ARGV[7]  now, ms since the epoch (each entry's `at`; meta lastChangeAt)
ARGV[8]  the writer's fence ('' = high availability off: no fence check)
ARGV[9]  status key prefix "{P}:status:" ('' = presence off: a removed user has no status to delete)
ARGV[10] M, then M meta field/value pairs to set (syncing, syncedAt, subscriptionId, icServer)
then     X, then X index groups, each: property, S, D, S value/user-id pairs to set, D values to delete
then     the held segment: A, A ids to hold (SADD), R, R ids to let go (SREM), F, F held:info field/value pairs
then     the catalogue segment: CS, CD, CS statusId/JSON pairs to HSET, CD statusIds to HDEL (presence)
then     the change entries, in order, to the end of ARGV; each is one of
           'n'|'u', id, S, D, S field/value pairs, D fields, data   upsert (HSET/HDEL the user hash, XADD);
                                                                    'n' = a user new to the mirror (SADD ids)
           'P'|'U', id, S, packed                                   an upsert with no deletion whose field names
                                                                    need no JSON escaping, its S field/value pairs
                                                                    joined by U+001F in one argument (JSON never
                                                                    holds a raw U+001F); data is composed from the
                                                                    pairs; 'P' = a user new to the mirror
           'r', id                                                  remove: DEL the user hash (and its status
                                                                    hash), SREM ids, XADD
           's', id, S, D, S field/value pairs, D fields, data       status (presence): HSET/HDEL the status hash,
                                                                    XADD op status (data: what changed, with
                                                                    `available` when it changed)
Returns  {'OK', seq, users} | {'FENCED', current fence or ''} | {'STALE', epoch, seq}
         | {'EMPTY'} (meta missing: Redis lost the mirror)
         | {'INCOMPLETE'} (an earlier write failed halfway, or the stream is ahead of seq: nothing written)
]]
local fence, epoch, seq, writing = unpack(redis.call('HMGET', KEYS[1], 'fence', 'epoch', 'seq', 'writing'))
-- The fence is checked first: after Redis lost its data the fence is gone too, and the writer must step down, not
-- re-create meta.
if ARGV[8] ~= '' and fence ~= ARGV[8] then return {'FENCED', fence or ''} end
if not epoch then return {'EMPTY'} end
seq = seq or '0'
if epoch ~= ARGV[1] or seq ~= ARGV[2] then return {'STALE', epoch, seq} end
if writing == '1' then return {'INCOMPLETE'} end

-- The stream must not be ahead of meta (a write that failed halfway, before the marker existed): write nothing.
local top = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
if top and tonumber(string.match(top[1], '^(%d+)')) > tonumber(seq) then return {'INCOMPLETE'} end

-- The marker first: every write after it may fail and stay (cleared by the last write below).
redis.call('HSET', KEYS[1], 'writing', '1')

-- Commands with many arguments go in slices (Lua's unpack is bounded by its C stack).
local SLICE = 1000
local function sliced(cmd, key, list, first, last)
  for a = first, last, SLICE do
    redis.call(cmd, key, unpack(list, a, math.min(last, a + SLICE - 1)))
  end
end

-- ARGV[at] = S, ARGV[at + 1] = D, then S field/value pairs to HSET and D fields to HDEL on `key`.
-- Returns the index after them and S.
local function hashWrites(key, at)
  local sets, dels = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
  local i = at + 2
  if sets > 0 then sliced('HSET', key, ARGV, i, i + 2 * sets - 1) end
  i = i + 2 * sets
  if dels > 0 then sliced('HDEL', key, ARGV, i, i + dels - 1) end
  return i + dels, sets
end

local i = 10
local m = tonumber(ARGV[i])
local metaFirst = i + 1
i = i + 1 + 2 * m
local groups = tonumber(ARGV[i])
local idxFirst = i + 1
i = i + 1
for g = 1, groups do
  i = i + 3 + 2 * tonumber(ARGV[i + 1]) + tonumber(ARGV[i + 2])
end
local heldFirst = i
local heldWrites = tonumber(ARGV[i])
i = i + 1 + heldWrites
heldWrites = heldWrites + tonumber(ARGV[i])
i = i + 1 + tonumber(ARGV[i])
heldWrites = heldWrites + tonumber(ARGV[i])
i = i + 1 + 2 * tonumber(ARGV[i])
local catalogueFirst = i
i = i + 2 + 2 * tonumber(ARGV[i]) + tonumber(ARGV[i + 1])

local n = tonumber(seq)
local written = 0
local s = seq
-- Ids of new users, added to the ids set in one call at the end (unless removed again within the chunk).
local added, pending = {}, {}
local userPrefix, statusPrefix, now = ARGV[3], ARGV[9], ARGV[7]
local last = #ARGV
while i <= last do
  local op, id = ARGV[i], ARGV[i + 1]
  local key = userPrefix .. id
  n = n + 1
  written = written + 1
  s = string.format('%.0f', n)
  if op == 'r' then
    pending[id] = nil
    if statusPrefix ~= '' then
      redis.call('DEL', key, statusPrefix .. id)
    else
      redis.call('DEL', key)
    end
    redis.call('SREM', KEYS[2], id)
    redis.call('XADD', KEYS[3], s .. '-0', 'seq', s, 'op', 'remove', 'id', id, 'at', now)
    i = i + 2
  elseif op == 's' then
    i = hashWrites(statusPrefix .. id, i + 2)
    redis.call('XADD', KEYS[3], s .. '-0', 'seq', s, 'op', 'status', 'id', id, 'data', ARGV[i], 'at', now)
    i = i + 1
  else
    local data
    if op == 'P' or op == 'U' then
      -- Split the packed pairs, HSET them, and compose data: the values are JSON already, only the names are
      -- quoted (they need no escaping).
      local packed, fields, parts = ARGV[i + 3], {}, {}
      local pos, n2 = 1, 0
      while true do
        local stop = string.find(packed, '\31', pos, true)
        n2 = n2 + 1
        fields[n2] = string.sub(packed, pos, stop and stop - 1 or -1)
        if not stop then break end
        pos = stop + 1
      end
      sliced('HSET', key, fields, 1, n2)
      for k = 1, n2, 2 do
        parts[#parts + 1] = ',"'
        parts[#parts + 1] = fields[k]
        parts[#parts + 1] = '":'
        parts[#parts + 1] = fields[k + 1]
      end
      parts[1] = '{"'
      parts[#parts + 1] = '}'
      data = table.concat(parts)
      i = i + 4
    else
      i = hashWrites(key, i + 2)
      data = ARGV[i]
      i = i + 1
    end
    if op == 'n' or op == 'P' then
      added[#added + 1] = id
      pending[id] = true
    end
    redis.call('XADD', KEYS[3], s .. '-0', 'seq', s, 'op', 'upsert', 'id', id, 'data', data, 'at', now)
  end
end
local still = {}
for _, id in ipairs(added) do
  if pending[id] then still[#still + 1] = id end
end
if #still > 0 then sliced('SADD', KEYS[2], still, 1, #still) end

local j = idxFirst
for g = 1, groups do
  j = hashWrites(ARGV[4] .. ARGV[j], j + 1)
end

if heldWrites > 0 then
  -- The ids held and let go are disjoint (the writer sends the net effect), so their order does not matter.
  local h = heldFirst
  local adds = tonumber(ARGV[h])
  if adds > 0 then sliced('SADD', KEYS[4], ARGV, h + 1, h + adds) end
  h = h + 1 + adds
  local releases = tonumber(ARGV[h])
  if releases > 0 then sliced('SREM', KEYS[4], ARGV, h + 1, h + releases) end
  h = h + 1 + releases
  local fields = tonumber(ARGV[h])
  if fields > 0 then redis.call('HSET', KEYS[5], unpack(ARGV, h + 1, h + 2 * fields)) end
  local held = redis.call('SCARD', KEYS[4])
  if held == 0 then redis.call('DEL', KEYS[5]) else redis.call('HSET', KEYS[5], 'count', held) end
end

local catalogueSets = tonumber(ARGV[catalogueFirst])
local catalogueDels = tonumber(ARGV[catalogueFirst + 1])
if catalogueSets + catalogueDels > 0 then hashWrites(KEYS[6], catalogueFirst) end

local users = redis.call('SCARD', KEYS[2])
if m > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, metaFirst, metaFirst + 2 * m - 1)) end
if written > 0 then
  redis.call('XTRIM', KEYS[3], 'MAXLEN', '~', ARGV[6])
  -- The last write clears the marker: everything before it landed.
  redis.call('HSET', KEYS[1], 'seq', s, 'users', users, 'lastChangeAt', now, 'writing', '0')
  redis.call('PUBLISH', ARGV[5], s)
else
  redis.call('HSET', KEYS[1], 'seq', s, 'users', users, 'writing', '0')
end
return {'OK', s, users}
