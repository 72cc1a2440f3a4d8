/** Compares the Redis mirror with the simulator's users (the truth), for the end-to-end tests. */
import type { Redis } from 'ioredis';
import { DEFAULTS } from '../../src/config/defaults.js';
import { mirrorKeys } from '../../src/mirror/keys.js';

type SimUser = { configurationId: { id: string } } & Record<string, unknown>;

/** '' when the mirror under `prefix` holds exactly the subscribed properties of `users`; else the first difference. */
export async function mirrorDifference(redis: Redis, prefix: string, users: SimUser[], properties: string[] = DEFAULTS.subscription.properties): Promise<string> {
  const keys = mirrorKeys(prefix);
  const ids = new Set(await redis.smembers(keys.ids));
  const expected = new Set(users.map((u) => u.configurationId.id));
  for (const id of expected) if (!ids.has(id)) return `user ${id} missing from the mirror`;
  for (const id of ids) if (!expected.has(id)) return `user ${id} in the mirror but not in the simulator`;
  for (const user of users) {
    const id = user.configurationId.id;
    const stored = await redis.hgetall(keys.user(id));
    const want: Record<string, unknown> = {};
    for (const p of properties) if (user[p] !== undefined && user[p] !== null) want[p] = user[p];
    const got: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(stored)) got[k] = JSON.parse(v);
    if (JSON.stringify(sortKeys(got)) !== JSON.stringify(sortKeys(want))) {
      return `user ${id} differs: mirror ${JSON.stringify(got).slice(0, 300)} vs simulator ${JSON.stringify(want).slice(0, 300)}`;
    }
  }
  const meta = await redis.hgetall(keys.meta);
  if (Number(meta.users) !== expected.size) return `meta.users is ${meta.users}, expected ${expected.size}`;
  return '';
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** The seqs of the change stream, oldest first. */
export async function streamSeqs(redis: Redis, prefix: string): Promise<number[]> {
  const entries = (await redis.xrange(mirrorKeys(prefix).changes, '-', '+')) as Array<[string, string[]]>;
  return entries.map(([id]) => Number(id.split('-')[0]));
}
