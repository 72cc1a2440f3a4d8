/**
 * Presence written straight into the Redis layout (docs/presence.md, "In the mirror"), for reader tests while no writer
 * writes it: `{P}:status:<id>` hashes (one JSON value per status property), the `{P}:statuses` catalogue, and `op
 * status` change entries with meta's seq moved on, one MULTI per change, beside a LayoutWriter's users (its seq is
 * shared). `available` is derived here by its own code from the documented rule, never by icwatch's, so that a test
 * compares icwatch's answers with an independent truth. The users with their status are kept as of the last seq of each
 * write (a catalogue change that writes several entries is recorded once, after the last).
 */
import type { Redis } from 'ioredis';
import type { LayoutWriter, Props } from '../fanout/layout.js';

/** A catalogue entry as ICWS gives it (`{statusId, messageText, groupTag, …}`). */
export interface CatalogueEntry {
  statusId: string;
  messageText: string;
  groupTag?: string;
  [more: string]: unknown;
}

/** The default server's statuses the tests use (groupTag as default servers spell it). */
export const CATALOGUE: CatalogueEntry[] = [
  { statusId: 'Available', messageText: 'Available', groupTag: 'AVAILABLE', isAcdStatus: true },
  { statusId: 'Do Not Disturb', messageText: 'Do Not Disturb', groupTag: 'DND' },
  { statusId: 'At Lunch', messageText: 'At Lunch', groupTag: 'AWAY' },
  { statusId: 'Gone Home', messageText: 'Gone Home', groupTag: 'GONE' },
];

export class PresenceLayout {
  /** id → the stored status properties (no `available`). */
  readonly statuses = new Map<string, Props>();
  /** statusId as the server spells it → the entry. */
  readonly catalogue = new Map<string, CatalogueEntry>();
  /** seq → every user with its `status` (stored properties plus `available`), after that seq. */
  readonly history = new Map<number, Map<string, Props>>();
  private readonly groups: Set<string>;

  constructor(
    private readonly redis: Redis,
    readonly writer: LayoutWriter,
    availableGroups: readonly string[] = ['AVAILABLE'],
  ) {
    this.groups = new Set(availableGroups.map((g) => g.toUpperCase()));
    this.record();
  }

  /** The documented rule, written again: logged in, off the phone, in a status whose group is an available one. */
  available(status: Props | undefined): boolean {
    if (!status || status.loggedIn !== true || status.onPhone === true || typeof status.statusId !== 'string') return false;
    const key = status.statusId.toLowerCase();
    const entry = [...this.catalogue.values()].find((e) => e.statusId.toLowerCase() === key);
    return entry?.groupTag !== undefined && this.groups.has(entry.groupTag.toUpperCase());
  }

  /** Every user as readers must see it: its properties and, when it has a status, `status` with `available`. */
  users(): Map<string, Props> {
    const out = new Map<string, Props>();
    for (const [id, props] of this.writer.users) {
      const status = this.statuses.get(id);
      out.set(id, status ? { ...structuredClone(props), status: { ...structuredClone(status), available: this.available(status) } } : structuredClone(props));
    }
    return out;
  }

  /**
   * Sets catalogue entries (HSET `{P}:statuses`); users whose availability this changes get a status entry
   * `{available}` each, in the same MULTI (docs/presence.md). Returns the seq.
   */
  async setCatalogue(entries: CatalogueEntry[]): Promise<number> {
    const before = this.availability();
    for (const e of entries) this.catalogue.set(e.statusId, e);
    const m = this.redis.multi();
    m.hset(this.writer.keys.statuses, ...entries.flatMap((e) => [e.statusId, JSON.stringify(e)]));
    const at = Date.now();
    for (const [id, was] of before) {
      const now = this.available(this.statuses.get(id));
      if (now !== was) this.entry(m, id, { available: now }, at);
    }
    return this.commit(m, at);
  }

  /**
   * Merges `change` into the status of `id` (null clears; a user with no status gets one), writes the status hash
   * and one `op status` entry with what changed and `available` when it changed. Returns the seq.
   */
  async setStatus(id: string, change: Props): Promise<number> {
    const key = this.writer.keys.status(id);
    const old = this.statuses.get(id);
    const status: Props = { ...old };
    const data: Props = {};
    const m = this.redis.multi();
    for (const [p, v] of Object.entries(change)) {
      if (v === null) {
        if (!(p in status)) continue;
        delete status[p];
        m.hdel(key, p);
        data[p] = null;
      } else if (JSON.stringify(status[p]) !== JSON.stringify(v)) {
        status[p] = v;
        m.hset(key, p, JSON.stringify(v));
        data[p] = v;
      }
    }
    const was = this.available(old);
    const now = this.available(status);
    if (now !== was) data.available = now;
    if (!Object.keys(data).length) return this.writer.seq;
    this.statuses.set(id, status);
    const at = Date.now();
    this.entry(m, id, data, at);
    return this.commit(m, at);
  }

  /** The status of `id` goes away: each property it had set to null and `available:false`, the hash deleted. */
  async clearStatus(id: string): Promise<number> {
    const old = this.statuses.get(id);
    if (!old) return this.writer.seq;
    this.statuses.delete(id);
    const m = this.redis.multi().del(this.writer.keys.status(id));
    const at = Date.now();
    this.entry(m, id, { ...Object.fromEntries(Object.keys(old).map((p) => [p, null])), available: false }, at);
    return this.commit(m, at);
  }

  /** A user's properties, through the LayoutWriter (which moves the shared seq). */
  async upsert(id: string, data: Props): Promise<number> {
    const written = this.writer.upsert(id, data);
    // The LayoutWriter has moved its users and seq before its first await: recorded before a reader can see them.
    this.record();
    return await written;
  }

  /** Removes a user and its status hash in one MULTI: one `op remove` entry, no status entry (docs/presence.md). */
  async remove(id: string): Promise<number> {
    const k = this.writer.keys;
    if (!this.writer.users.has(id)) return this.writer.seq;
    this.writer.users.delete(id);
    this.statuses.delete(id);
    const at = Date.now();
    const seq = ++this.writer.seq;
    const m = this.redis.multi().del(k.user(id)).srem(k.ids, id).del(k.status(id));
    m.xadd(k.changes, `${seq}-0`, 'seq', seq, 'op', 'remove', 'id', id, 'at', at);
    m.hset(k.meta, 'users', this.writer.users.size);
    return this.commit(m, at);
  }

  private availability(): Map<string, boolean> {
    return new Map([...this.statuses].map(([id, s]) => [id, this.available(s)]));
  }

  private entry(m: ReturnType<Redis['multi']>, id: string, data: Props, at: number): void {
    const seq = ++this.writer.seq;
    m.xadd(this.writer.keys.changes, `${seq}-0`, 'seq', seq, 'op', 'status', 'id', id, 'data', JSON.stringify(data), 'at', at);
  }

  /** meta's seq, the MULTI, the wake-up; the users are recorded as of the last seq it wrote, before a reader can see it. */
  private async commit(m: ReturnType<Redis['multi']>, at: number): Promise<number> {
    const seq = this.writer.seq;
    m.hset(this.writer.keys.meta, 'seq', seq, 'lastChangeAt', at);
    this.record();
    await m.exec();
    await this.redis.publish(this.writer.keys.notify, String(seq));
    return seq;
  }

  private record(): void {
    this.history.set(this.writer.seq, this.users());
  }
}
