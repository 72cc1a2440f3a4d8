/**
 * The Redis mirror as a reader sees it, and the comparisons the tests end with: mirror = the simulator's truth,
 * follower = mirror. Shared by every test folder and the soak benchmark.
 */
import type { Cluster, Redis } from 'ioredis';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { MirrorKeys } from '../../src/mirror/keys.js';
import { availableGroupSet, groupsOfCatalogue, isAvailable } from '../../src/mirror/presence.js';

export type Props = Record<string, unknown>;
/** A user as the simulator holds it. */
export type SimUser = { configurationId: { id: string } } & Props;

/** Every user hash as stored (id → field → JSON text); one round trip per user, so also through a Cluster. */
export async function readUserHashes(reader: Redis | Cluster, keys: MirrorKeys): Promise<Map<string, Record<string, string>>> {
  const ids = (await reader.smembers(keys.ids)).sort();
  const hashes = await Promise.all(ids.map((id) => reader.hgetall(keys.user(id))));
  return new Map(ids.map((id, i) => [id, hashes[i]!]));
}

/** A stored user hash with its values JSON-decoded. */
export function parseUserHash(hash: Record<string, string>): Props {
  return Object.fromEntries(Object.entries(hash).map(([field, json]) => [field, JSON.parse(json) as unknown]));
}

/** The mirror's users: id → parsed properties. */
export async function readMirror(reader: Redis | Cluster, keys: MirrorKeys): Promise<Map<string, Props>> {
  const hashes = await readUserHashes(reader, keys);
  return new Map([...hashes].map(([id, hash]) => [id, parseUserHash(hash)]));
}

/**
 * The mirror's users as a reader sees them with presence: each user's `status` (its status hash decoded, plus
 * `available` by the catalogue and `availableGroups`) when it has one.
 */
export async function readMirrorWithStatuses(reader: Redis | Cluster, keys: MirrorKeys, availableGroups = ['AVAILABLE']): Promise<Map<string, Props>> {
  const users = await readMirror(reader, keys);
  const groups = groupsOfCatalogue(Object.entries(await reader.hgetall(keys.statuses)));
  const available = availableGroupSet(availableGroups);
  const ids = [...users.keys()];
  const hashes = await Promise.all(ids.map((id) => reader.hgetall(keys.status(id))));
  ids.forEach((id, i) => {
    if (!Object.keys(hashes[i]!).length) return;
    const status = parseUserHash(hashes[i]!);
    users.get(id)!.status = { ...status, available: isAvailable(status, groups, available) };
  });
  return users;
}

/** Simulator users reduced to the subscribed properties: what the mirror must hold. */
export function subscribedUsers(users: Iterable<SimUser>, properties: string[] = DEFAULTS.subscription.properties): Map<string, Props> {
  const out = new Map<string, Props>();
  for (const user of users) {
    const props: Props = {};
    for (const p of properties) if (user[p] !== undefined && user[p] !== null) props[p] = user[p];
    out.set(user.configurationId.id, props);
  }
  return out;
}

/** The first difference between two user maps (order-insensitive deep comparison), or undefined. */
export function difference(expected: Map<string, Props>, actual: Map<string, Props>): string | undefined {
  for (const [id, props] of expected) {
    const other = actual.get(id);
    if (!other) return `user ${id} missing`;
    for (const k of new Set([...Object.keys(props), ...Object.keys(other)])) {
      const [want, got] = [canonical(props[k]), canonical(other[k])];
      if (want !== got) return `user ${id}.${k}: expected ${want?.slice(0, 80)}, got ${got?.slice(0, 80)}`;
    }
  }
  for (const id of actual.keys()) if (!expected.has(id)) return `user ${id} should not be there`;
  return undefined;
}

/** JSON with object keys sorted, so that key order does not count as a difference. */
function canonical(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => a.localeCompare(b))) : val,
  );
}

/** '' when the mirror holds exactly the subscribed properties of `users` and meta counts them; else the first difference. */
export async function mirrorDifference(redis: Redis, keys: MirrorKeys, users: Iterable<SimUser>, properties?: string[]): Promise<string> {
  const expected = subscribedUsers(users, properties);
  const found = difference(expected, await readMirror(redis, keys));
  if (found) return found;
  const counted = await redis.hget(keys.meta, 'users');
  return Number(counted) === expected.size ? '' : `meta.users is ${counted}, expected ${expected.size}`;
}

/** The seqs of the change stream, oldest first. */
export async function streamSeqs(redis: Redis, keys: MirrorKeys): Promise<number[]> {
  const entries = await redis.xrange(keys.changes, '-', '+');
  return entries.map(([id]) => Number(id.split('-')[0]));
}
