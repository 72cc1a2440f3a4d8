--[[
icwatch mirror: one user and the mirror's head, read atomically (README "HTTP reads": GET /v1/users/<id> and
GET /v1/users?<indexed>=<value>), by id or through an index; with presence, the user's status and what the
catalogue says of it, at the same seq (docs/presence.md). Reads only.

KEYS[1]  {P}:meta                 HASH (epoch, seq)
KEYS[2]  by id: {P}:user:<id>     HASH (the user)
         through an index: {P}:idx:<property>  HASH (value → user id)
ARGV[1]  'id' | 'index'
ARGV[2]  by id: the user id; through an index: the value looked up
ARGV[3]  through an index: {P}:user: (the user key prefix, for the id the index names)
ARGV[4]  {P}:status: (the status key prefix); '' = presence off: no status is read
ARGV[5]  {P}:statuses (the catalogue)
Returns  {epoch, seq} when the index names nobody, else {epoch, seq, id, the user's HGETALL ({} when absent),
         the status's HGETALL ({} when none), catalogue entries as [statusId, JSON, …]}: the entry of the status's
         statusId when the catalogue spells it alike, else the whole catalogue (status ids compare without case,
         which the caller does); {} without a status
]]
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'seq')
local id, user
if ARGV[1] == 'id' then
  id = ARGV[2]
  user = redis.call('HGETALL', KEYS[2])
else
  id = redis.call('HGET', KEYS[2], ARGV[2])
  if not id then return {meta[1], meta[2]} end
  user = redis.call('HGETALL', ARGV[3] .. id)
end
if ARGV[4] == '' then return {meta[1], meta[2], id, user} end

local status = redis.call('HGETALL', ARGV[4] .. id)
local catalogue = {}
for i = 1, #status, 2 do
  if status[i] == 'statusId' then
    -- Stored as JSON (a quoted string): decoding only reads it, nothing is encoded back.
    local ok, statusId = pcall(cjson.decode, status[i + 1])
    if ok and type(statusId) == 'string' then
      local entry = redis.call('HGET', ARGV[5], statusId)
      if entry then catalogue = {statusId, entry} else catalogue = redis.call('HGETALL', ARGV[5]) end
    end
  end
end
return {meta[1], meta[2], id, user, status, catalogue}
