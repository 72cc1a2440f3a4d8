/**
 * A stand-in for the mirror in fan-out tests: writes the Redis layout (README, "The Redis mirror (for readers)":
 * user hashes, ids, meta, the change stream with `<seq>-0` ids, notify) one atomic MULTI per batch, and keeps the
 * state at every seq so that a test can check a client's state against the mirror at each seq.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { mirrorKeys, type MirrorKeys } from '../../src/mirror/keys.js';

export type Props = Record<string, unknown>;
export type Op = { op: 'upsert'; id: string; data: Record<string, unknown> } | { op: 'remove'; id: string };

export class LayoutWriter {
  readonly keys: MirrorKeys;
  epoch = '';
  seq = 0;
  readonly users = new Map<string, Props>();
  /** Deep copies of the state after each seq (seq → users), when `keepHistory`. */
  readonly history = new Map<number, Map<string, Props>>();

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly options: { streamLength?: number; keepHistory?: boolean } = {},
  ) {
    this.keys = mirrorKeys(prefix);
  }

  /** A new epoch over an empty mirror (also what a Redis restarted empty looks like to readers). */
  async init(): Promise<void> {
    const k = this.keys;
    const existing = await this.redis.keys(`{${k.prefix}}:*`);
    if (existing.length) await this.redis.del(...existing);
    this.epoch = randomBytes(8).toString('hex');
    this.seq = 0;
    this.users.clear();
    this.history.clear();
    await this.redis.hset(k.meta, 'epoch', this.epoch, 'seq', 0, 'users', 0);
    this.record();
  }

  upsert(id: string, data: Record<string, unknown>): Promise<number> {
    return this.apply([{ op: 'upsert', id, data }]);
  }

  remove(id: string): Promise<number> {
    return this.apply([{ op: 'remove', id }]);
  }

  /** Applies ops in one MULTI (one change entry per op that changes something), publishes once; returns the seq. */
  async apply(ops: Op[]): Promise<number> {
    const k = this.keys;
    const m = this.redis.multi();
    const at = Date.now();
    const fromSeq = this.seq + 1;
    for (const o of ops) {
      if (o.op === 'remove') {
        if (!this.users.has(o.id)) continue;
        this.users.delete(o.id);
        m.del(k.user(o.id)).srem(k.ids, o.id);
        m.xadd(k.changes, 'MAXLEN', '~', String(this.options.streamLength ?? 100000), `${++this.seq}-0`, 'seq', this.seq, 'op', 'remove', 'id', o.id, 'at', at);
      } else {
        const user = this.users.get(o.id) ?? { configurationId: { id: o.id, displayName: o.id } };
        const isNew = !this.users.has(o.id);
        const changed: Record<string, unknown> = isNew ? { ...user } : {};
        for (const [p, v] of Object.entries(o.data)) {
          if (v === null ? p in user : JSON.stringify(user[p]) !== JSON.stringify(v)) changed[p] = v;
          if (v === null) delete user[p];
          else user[p] = v;
        }
        if (!Object.keys(changed).length) continue;
        this.users.set(o.id, user);
        for (const [p, v] of Object.entries(changed)) {
          if (v === null) m.hdel(k.user(o.id), p);
          else m.hset(k.user(o.id), p, JSON.stringify(v));
        }
        m.sadd(k.ids, o.id);
        m.xadd(
          k.changes,
          'MAXLEN',
          '~',
          String(this.options.streamLength ?? 100000),
          `${++this.seq}-0`,
          'seq',
          this.seq,
          'op',
          'upsert',
          'id',
          o.id,
          'data',
          JSON.stringify(changed),
          'at',
          at,
        );
      }
      this.record();
    }
    if (this.seq < fromSeq) return this.seq;
    m.hset(k.meta, 'seq', this.seq, 'users', this.users.size, 'lastChangeAt', at);
    await m.exec();
    await this.redis.publish(k.notify, String(this.seq));
    return this.seq;
  }

  /** Drops every entry up to and including `seq` from the stream (as MAXLEN trimming does over time). */
  async trimThrough(seq: number): Promise<void> {
    await this.redis.xtrim(this.keys.changes, 'MINID', `${seq + 1}-0`);
  }

  private record(): void {
    if (!this.options.keepHistory) return;
    this.history.set(this.seq, new Map([...this.users].map(([id, p]) => [id, structuredClone(p)])));
  }
}

/** Sorted plain form of a users map, for deep equality. */
export function plain(users: Map<string, Props>): Record<string, Props> {
  return Object.fromEntries([...users].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A deterministic pseudo-random op on `n` users. */
export function randomOp(rand: () => number, n: number): Op {
  const id = `u${Math.floor(rand() * n)}`;
  const r = rand();
  if (r < 0.1) return { op: 'remove', id };
  if (r < 0.2) return { op: 'upsert', id, data: { statusText: null } };
  if (r < 0.6) return { op: 'upsert', id, data: { statusText: `s${Math.floor(rand() * 5)}` } };
  return { op: 'upsert', id, data: { extension: String(1000 + Math.floor(rand() * 50)), skills: { level: Math.floor(rand() * 3) } } };
}

export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
