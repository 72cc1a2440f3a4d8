--[[
icwatch mirror: one user and the mirror's head, read atomically (README "HTTP reads": GET /v1/users/<id> and
GET /v1/users?<indexed>=<value>), by id or through an index. Reads only.

KEYS[1]  {P}:meta                 HASH (epoch, seq)
KEYS[2]  by id: {P}:user:<id>     HASH (the user)
         through an index: {P}:idx:<property>  HASH (value → user id)
ARGV[1]  'id' | 'index'
ARGV[2]  by id: the user id; through an index: the value looked up
ARGV[3]  through an index: {P}:user: (the user key prefix, for the id the index names)
Returns  {epoch, seq} when the index names nobody, else {epoch, seq, id, the user's HGETALL ({} when absent)}
]]
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'seq')
if ARGV[1] == 'id' then
  return {meta[1], meta[2], ARGV[2], redis.call('HGETALL', KEYS[2])}
end
local id = redis.call('HGET', KEYS[2], ARGV[2])
if not id then return {meta[1], meta[2]} end
return {meta[1], meta[2], id, redis.call('HGETALL', ARGV[3] .. id)}
