/**
 * A snapshot consistent with the seq it names, without any lock on the mirror: read seq S0, read the users
 * (pipelined HGETALLs in chunks), read seq S1, then replay the stream entries S0+1..S1 onto what was read. Each
 * entry sets absolute values, so replaying one on a user already read after it is harmless, and the result is
 * exactly the mirror at S1.
 */
import type { ChangeEntry } from '../mirror/change.js';
import type { MirrorKeys } from '../mirror/keys.js';
import { frameOf, pickProps, propsKey, type PropsFilter } from './frames.js';
import { decodeEntries, entrySeq, readChanges, readHead, type RedisClient } from './stream.js';

export type UserProps = Record<string, unknown>;

export interface SnapshotOptions {
  /** Users per pipelined round trip, and per snapshot frame. */
  chunkUsers: number;
  /** Stream entries per XRANGE page while replaying. */
  pageEntries: number;
  /** Builds restarted (the stream trimmed past S0 while reading) before giving up. */
  maxAttempts: number;
  /** A full snapshot still held by a client is handed to new clients while it is at most this many entries behind. */
  reuseMaxEntries: number;
  onBadEntry: (err: Error, id: string) => void;
}

/** Applies one change to a users map, as a client does. */
export function applyChange(users: Map<string, UserProps>, entry: ChangeEntry): void {
  if (entry.op === 'remove') {
    users.delete(entry.id);
    return;
  }
  let user = users.get(entry.id);
  if (!user) users.set(entry.id, (user = {}));
  for (const [k, v] of Object.entries(entry.data)) {
    if (v === null) delete user[k];
    else user[k] = v;
  }
}

function decodeHash(hash: Record<string, string>): UserProps {
  const out: UserProps = {};
  for (const [k, v] of Object.entries(hash)) {
    try {
      out[k] = JSON.parse(v);
    } catch {
      out[k] = v; // not JSON: hand it on as the string it is rather than lose the property
    }
  }
  return out;
}

export class Snapshot {
  private readonly list: [string, UserProps][];
  private readonly frames = new Map<string, Buffer[]>();

  constructor(
    readonly epoch: string | null,
    readonly seq: number,
    users: Map<string, UserProps>,
    private readonly chunkUsers: number,
  ) {
    this.list = [...users];
  }

  get userCount(): number {
    return this.list.length;
  }
  get chunkCount(): number {
    return Math.max(1, Math.ceil(this.list.length / this.chunkUsers));
  }

  /** Snapshot frame `i` for a client receiving `props`; framed once per props filter. */
  chunkFrame(i: number, props: PropsFilter): Buffer {
    const key = propsKey(props);
    let frames = this.frames.get(key);
    if (!frames) this.frames.set(key, (frames = []));
    let frame = frames[i];
    if (!frame) {
      const users = this.list.slice(i * this.chunkUsers, (i + 1) * this.chunkUsers).map(([id, p]) => ({ id, ...pickProps(p, props) }));
      frame = frames[i] = frameOf({ type: 'snapshot', seq: this.seq, users, last: i === this.chunkCount - 1 });
    }
    return frame;
  }
}

class TrimmedWhileReading extends Error {}

async function buildOnce(redis: RedisClient, keys: MirrorKeys, ids: ReadonlySet<string> | null, o: SnapshotOptions): Promise<Snapshot> {
  const start = await readHead(redis, keys);
  const idList = ids ? [...ids] : await redis.smembers(keys.ids);
  const users = new Map<string, UserProps>();
  for (let i = 0; i < idList.length; i += o.chunkUsers) {
    const chunk = idList.slice(i, i + o.chunkUsers);
    const p = redis.pipeline();
    for (const id of chunk) p.hgetall(keys.user(id));
    const results = (await p.exec()) ?? [];
    results.forEach(([err, hash], j) => {
      if (err) throw err;
      const h = hash as Record<string, string>;
      if (Object.keys(h).length) users.set(chunk[j]!, decodeHash(h));
    });
  }
  const end = await readHead(redis, keys);
  if (end.epoch !== start.epoch || end.seq < start.seq) throw new TrimmedWhileReading('the mirror restarted while reading');
  for (let from = start.seq + 1; from <= end.seq;) {
    const raw = await readChanges(redis, keys, from, o.pageEntries, end.seq);
    if (!raw.length || entrySeq(raw[0]!) !== from) throw new TrimmedWhileReading(`the stream no longer holds seq ${from}`);
    for (const entry of decodeEntries(raw, o.onBadEntry)) if (!ids || ids.has(entry.id)) applyChange(users, entry);
    from = entrySeq(raw[raw.length - 1]!) + 1;
  }
  return new Snapshot(end.epoch, end.seq, users, o.chunkUsers);
}

export async function buildSnapshot(redis: RedisClient, keys: MirrorKeys, ids: ReadonlySet<string> | null, o: SnapshotOptions): Promise<Snapshot> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await buildOnce(redis, keys, ids, o);
    } catch (err) {
      if (!(err instanceof TrimmedWhileReading) || attempt >= o.maxAttempts) throw err;
    }
  }
}

/**
 * Full snapshots are shared, so the memory they take stays bounded whatever clients do: clients that ask while one
 * is being built share it, and a later client gets the newest one as long as some client still holds it (a weak
 * reference: an idle fan-out keeps none), it belongs to the current epoch, it is at most `reuseMaxEntries` behind,
 * and the stream still holds the entries after it. The client then catches up from its seq, as a resume would.
 * A thundering herd after an epoch change costs one read of the directory, framed once.
 */
export class SharedSnapshots {
  private building: Promise<Snapshot> | null = null;
  private newest: WeakRef<Snapshot> | null = null;
  /** Full snapshots read from Redis so far (each one a read of the whole directory). */
  builds = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: MirrorKeys,
    private readonly options: SnapshotOptions,
  ) {}

  async get(ids: ReadonlySet<string> | null): Promise<Snapshot> {
    if (ids) return buildSnapshot(this.redis, this.keys, ids, this.options);
    if (this.building) return this.building;
    const held = await this.reusable();
    if (held) return held;
    if (!this.building) {
      this.builds++;
      this.building = buildSnapshot(this.redis, this.keys, null, this.options)
        .then((snap) => {
          this.newest = new WeakRef(snap);
          return snap;
        })
        .finally(() => {
          this.building = null;
        });
    }
    return this.building;
  }

  private async reusable(): Promise<Snapshot | null> {
    const snap = this.newest?.deref();
    if (!snap) return null;
    const head = await readHead(this.redis, this.keys);
    if (head.epoch !== snap.epoch || head.seq < snap.seq || head.seq - snap.seq > this.options.reuseMaxEntries) return null;
    if (head.seq === snap.seq) return snap;
    const next = `${snap.seq + 1}-0`;
    return (await this.redis.xrange(this.keys.changes, next, next)).length ? snap : null;
  }
}
