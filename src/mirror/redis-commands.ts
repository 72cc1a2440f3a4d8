/**
 * Every Redis command icwatch sends, in one list: by its own code (the mirror's Lua scripts, the readers, the lease),
 * and by ioredis on its behalf (the handshake, the ready check, Cluster's slot map). A least-privilege Redis user
 * (README "Redis ACL") needs each of them on the mirror's keys `~{P}:*` and channels `&{P}:*`; `icwatch doctor`
 * checks them one by one. test/mirror/redis-commands.test.ts reads the sources and the Lua scripts so that a command
 * added there and not here fails the build.
 *
 * Commands a Lua script calls need the user's permission as much as EVALSHA itself: Redis checks each call inside the
 * script against the ACL of the user running it (https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/).
 */
import type { Config } from '../config/defaults.js';

export interface RedisCommandUse {
  /** As an ACL rule names it: lower case, a subcommand as `client|setname`. */
  readonly command: string;
  /** Who sends it, for what. */
  readonly why: string;
  /**
   * Arguments of one harmless call of it (after the command's own words), keys and channels named by `key`:
   * what ACL DRYRUN checks against the user's key and channel patterns.
   */
  args(key: (name: string) => string): string[];
  /** Sent by ioredis itself, not by icwatch's code (the sources do not name it). */
  readonly byClient?: true;
  /** ioredis carries on without it (it ignores the refusal): missing it is a warning, not a failure. */
  readonly optional?: true;
  /** Only in these Redis modes (default: all). */
  readonly modes?: readonly Config['redis']['mode'][];
  /** Only when redis.url names a database other than 0. */
  readonly onlyWithDatabase?: true;
}

const SHA = '0'.repeat(40);

export const REDIS_COMMANDS_USED: readonly RedisCommandUse[] = [
  // The mirror's scripts (lua/*.lua, run by EVALSHA with an EVAL fallback: ioredis defineCommand) and the one-user read.
  { command: 'evalsha', why: 'runs the mirror and lease scripts, and the one-user read (HTTP)', args: (k) => [SHA, '3', k('meta'), k('ids'), k('changes')] },
  { command: 'eval', why: 'loads a script Redis does not hold yet', args: (k) => ['return 1', '1', k('meta')] },
  { command: 'hget', why: 'scripts and readers: meta fields, index lookups', args: (k) => [k('meta'), 'seq'] },
  { command: 'hmget', why: 'readers: epoch and seq of meta', args: (k) => [k('meta'), 'epoch', 'seq'] },
  { command: 'hgetall', why: 'snapshots, status, loading the mirror', args: (k) => [k('meta')] },
  { command: 'hset', why: 'scripts: users, indexes, meta', args: (k) => [k('meta'), 'doctor', '1'] },
  { command: 'hdel', why: 'scripts: cleared properties and index entries', args: (k) => [k('meta'), 'doctor'] },
  { command: 'hincrby', why: 'scripts: the user count', args: (k) => [k('meta'), 'doctor', '0'] },
  { command: 'smembers', why: 'snapshots and loading: every user id', args: (k) => [k('ids')] },
  { command: 'sadd', why: 'scripts: new user ids', args: (k) => [k('ids'), 'doctor'] },
  { command: 'srem', why: 'scripts: removed user ids', args: (k) => [k('ids'), 'doctor'] },
  { command: 'scard', why: 'scripts: the user count', args: (k) => [k('ids')] },
  { command: 'del', why: 'scripts: removed users, a new epoch, the lease', args: (k) => [k('doctor')] },
  { command: 'get', why: 'scripts: the leader lease', args: (k) => [k('leader')] },
  { command: 'set', why: 'scripts: taking the leader lease', args: (k) => [k('doctor'), '1', 'PX', '1000'] },
  { command: 'pexpire', why: 'scripts: renewing the leader lease', args: (k) => [k('doctor'), '1000'] },
  { command: 'pttl', why: 'scripts: the lease time left', args: (k) => [k('leader')] },
  { command: 'xadd', why: 'scripts: change entries', args: (k) => [k('doctor'), '1-0', 'doctor', '1'] },
  { command: 'xtrim', why: 'scripts: bounding the change stream', args: (k) => [k('changes'), 'MAXLEN', '~', '1000000000'] },
  { command: 'xrange', why: 'followers and resumes: change entries', args: (k) => [k('changes'), '+', '+'] },
  { command: 'xrevrange', why: 'scripts and status: the newest change entry', args: (k) => [k('changes'), '+', '-', 'COUNT', '1'] },
  { command: 'publish', why: 'scripts: the new seq, the lease released', args: (k) => [k('doctor'), '0'] },
  { command: 'subscribe', why: 'followers: new changes; standbys: the lease released', args: (k) => [k('notify')] },
  { command: 'unsubscribe', why: 'leaving those channels', args: (k) => [k('notify')] },
  { command: 'wait', why: 'redis.waitReplicas: each write waits for that many replicas', args: () => ['0', '1'] },
  { command: 'ping', why: 'health checks and WebSocket keepalive of followers', args: () => [] },
  { command: 'quit', why: 'closing connections politely', args: () => [], optional: true },
  // Sent by ioredis.
  { command: 'info', why: "ioredis's ready check", args: () => ['server'], byClient: true, optional: true },
  { command: 'client|setname', why: 'ioredis names each connection (CLIENT LIST shows icwatch)', args: () => ['icwatch'], byClient: true, optional: true },
  {
    command: 'select',
    why: 'ioredis selects the database of redis.url',
    args: () => ['0'],
    byClient: true,
    onlyWithDatabase: true,
    modes: ['standalone', 'sentinel'],
  },
  { command: 'cluster|slots', why: "ioredis reads the Cluster's slot map", args: () => [], byClient: true, modes: ['cluster'] },
  { command: 'cluster|info', why: "ioredis's Cluster ready check", args: () => [], byClient: true, modes: ['cluster'] },
];

/** The commands a deployment with this Redis configuration sends. */
export function commandsFor(redis: Config['redis']): RedisCommandUse[] {
  const db = Number(new URL(redis.url).pathname.replace(/^\//, '') || 0);
  return REDIS_COMMANDS_USED.filter((c) => (!c.modes || c.modes.includes(redis.mode)) && (!c.onlyWithDatabase || db > 0));
}

/** The command's words as Redis takes them: `client|setname` → CLIENT SETNAME. */
export function commandWords(command: string): string[] {
  return command.toUpperCase().split('|');
}
