/**
 * The mirror's users held in memory (the daemon is the single writer of a mirror), and the planning of writes
 * against them: each operation updates memory at once (optimistically) and appends to a ChunkBuilder exactly the
 * Redis writes and change entries it takes. If Redis then refuses or loses the chunk, the caller reloads memory
 * from Redis, which stays the source of truth.
 *
 * Memory holds what the diff needs, not copies of the users: a digest per property (util/digest.ts, kept compact by
 * user-digests.ts), and the value itself only of indexed properties (to move index entries). So the users cost a few
 * hundred bytes each whatever their size (README "Big directories").
 */
import { ChunkBuilder, keyJson, type OpenUpsert } from './chunk-builder.js';
import { digestOf } from '../util/digest.js';
import { indexValue } from './encode.js';
import type { CheckedUser, UserProps } from './input.js';
import type { StatusBook } from './statuses.js';
import { NO_TEXT, UserDigests } from './user-digests.js';

/** property → JSON encoding, as in the user's Redis hash (what a load reads). */
export type StoredProps = Map<string, string>;

/** One indexed property: who holds each value, and which holder the Redis index points at. */
export class PropertyIndex {
  /** value → its holder, or its holders when several users share it (rare: one string saves a Set per value). */
  readonly holders = new Map<string, string | Set<string>>();
  /** user id → the value the user holds. */
  readonly valueOf = new Map<string, string>();
  /** value → user id, exactly as `{P}:idx:<property>` holds it (after the chunks planned so far). */
  readonly entries = new Map<string, string>();

  constructor(readonly property: string) {}

  hold(b: ChunkBuilder, value: string, id: string): void {
    const held = this.holders.get(value);
    if (held === undefined) this.holders.set(value, id);
    else if (typeof held === 'string') {
      if (held !== id) this.holders.set(value, new Set([held, id]));
    } else held.add(id);
    this.valueOf.set(id, value);
    // The user who got the value last wins (an extension moved to a new user points at the new user).
    this.point(b, value, id);
  }

  /** The user lets go of its value (if it holds one). */
  release(b: ChunkBuilder, id: string): void {
    const value = this.valueOf.get(id);
    if (value === undefined) return;
    this.valueOf.delete(id);
    const held = this.holders.get(value);
    let next: string | undefined;
    if (typeof held === 'string') {
      if (held === id) this.holders.delete(value);
      else next = held;
    } else if (held) {
      held.delete(id);
      next = held.values().next().value;
      if (held.size === 1) this.holders.set(value, next!);
    }
    // Remove an entry only if it still points at this user; if another user still holds the value, point at them.
    if (this.entries.get(value) === id) this.point(b, value, next);
  }

  private anyHolder(value: string): string | undefined {
    const held = this.holders.get(value);
    return typeof held === 'string' || held === undefined ? held : held.values().next().value;
  }

  private holds(value: string, id: string): boolean {
    const held = this.holders.get(value);
    return typeof held === 'string' ? held === id : held !== undefined && held.has(id);
  }

  /** Make the entries agree with the holders (after a load: stale, missing or newly indexed values). */
  repair(b: ChunkBuilder): void {
    for (const value of this.holders.keys()) {
      const at = this.entries.get(value);
      if (at === undefined || !this.holds(value, at)) this.point(b, value, this.anyHolder(value));
    }
    for (const value of [...this.entries.keys()]) if (!this.holders.has(value)) this.point(b, value, undefined);
  }

  private point(b: ChunkBuilder, value: string, id: string | undefined): void {
    const before = this.entries.get(value);
    if (before === id) return;
    b.touchIndex(this, value, before);
    if (id === undefined) this.entries.delete(value);
    else this.entries.set(value, id);
  }
}

/**
 * A text digest's low 30 bits, its key among the texts' owners: a small integer, which a Map hashes and compares
 * without the heap number a 53-bit digest is (a re-sync looks up every user's text).
 */
const ownerKey = (textDigest: number): number => textDigest & 0x3fffffff;

export class MirrorState {
  /** id → what memory keeps of the user, with the digest of the text its last full replace carried it as (`text`). */
  readonly users = new Map<string, UserDigests>();
  /**
   * ownerKey(text digest) → id, checked against the user's `text` when read (a stale entry is ignored; pruned as they
   * pile up). Two users whose texts share a key take turns: the one not found is read as any other user.
   */
  private readonly textOwners = new Map<number, string>();
  private readonly indexes = new Map<string, PropertyIndex>();
  /** The users' statuses (presence; absent when presence is off): told when a user comes and goes. */
  statuses: StatusBook | undefined;
  /** Full replaces begun (beginReplace). */
  private replaces = 0;
  /** Told each user's `workgroups` property as it changes (icwatch_available_agents); null = cleared or gone. */
  workgroupsFollower: ((id: string, json: string | null) => void) | undefined;

  constructor(readonly indexedProperties: readonly string[]) {
    for (const p of indexedProperties) this.indexes.set(p, new PropertyIndex(p));
  }

  /** Memory as loaded from Redis: users, and the index entries as Redis holds them (repair() fixes disagreements). */
  static loaded(indexedProperties: readonly string[], users: Map<string, StoredProps>, indexEntries: Map<string, Map<string, string>>): MirrorState {
    const state = new MirrorState(indexedProperties);
    const scratch = new ChunkBuilder();
    for (const [id, props] of users) {
      const digests = new UserDigests();
      for (const [prop, json] of props) {
        digests.add(prop, digestOf(json));
        state.indexes.get(prop)?.hold(scratch, indexValue(json), id);
      }
      state.users.set(id, digests);
    }
    for (const [prop, entries] of indexEntries) {
      const index = state.indexes.get(prop);
      if (!index) continue;
      index.entries.clear();
      for (const [value, id] of entries) index.entries.set(value, id);
    }
    return state;
  }

  get size(): number {
    return this.users.size;
  }

  /** Index writes that make every index agree with the users (none when Redis was consistent). */
  repairIndexes(b: ChunkBuilder): void {
    for (const index of this.indexes.values()) index.repair(b);
  }

  indexEntry(property: string, value: string): string | undefined {
    return this.indexes.get(property)?.entries.get(value);
  }

  /**
   * A full replace begins: its number, with which the users it carries are marked (setExact, unchangedSince), so
   * that those it omits are found without a set of the ids it carried (notCarriedBy).
   */
  beginReplace(): number {
    return ++this.replaces;
  }

  /** The ids of the users the full replace numbered `replace` did not carry. */
  notCarriedBy(replace: number): string[] {
    const ids: string[] = [];
    for (const [id, user] of this.users) if (user.carriedBy !== replace) ids.push(id);
    return ids;
  }

  carriedBy(id: string, replace: number): boolean {
    return this.users.get(id)?.carriedBy === replace;
  }

  /**
   * Whether the user holds exactly what a full replace carrying it as text of digest `textDigest` sets; if it does,
   * it is marked as carried by that replace (`replace`, beginReplace).
   */
  unchangedSince(id: string, textDigest: number, replace = 0): boolean {
    const user = this.users.get(id);
    if (user?.text !== textDigest) return false;
    if (replace) user.carriedBy = replace;
    return true;
  }

  /** KnownUserTexts (input.ts): the user whose last full replace carried it as text of this digest, unchanged since. */
  idOfText(textDigest: number): string | undefined {
    const id = this.textOwners.get(ownerKey(textDigest));
    return id !== undefined && this.users.get(id)?.text === textDigest ? id : undefined;
  }

  private rememberText(user: UserDigests, id: string, textDigest: number): void {
    user.text = textDigest;
    this.textOwners.set(ownerKey(textDigest), id);
    // Stale owners (texts since changed, users gone) pile up over re-syncs: keep only the current ones once they
    // outnumber the users.
    if (this.textOwners.size > 2 * this.users.size + 1024) {
      for (const [key, owner] of this.textOwners) {
        const text = this.users.get(owner)?.text;
        if (text === undefined || text === NO_TEXT || ownerKey(text) !== key) this.textOwners.delete(key);
      }
    }
  }

  /**
   * Set the user to exactly what it carries (an add, or a user of a full replace, whose text digest is remembered).
   * A user carried as the same text as at the previous full replace, and unchanged since, needs no comparing. Returns
   * whether an entry was written. `replace`: the full replace carrying it (beginReplace), marked on it (0: none).
   */
  setExact(b: ChunkBuilder, user: CheckedUser, replace = 0): boolean {
    const { id, textDigest } = user;
    const current = this.users.get(id);
    if (!current) {
      const created = this.create(b, user, user.props);
      if (created && replace) created.carriedBy = replace;
      if (created && textDigest !== undefined) this.rememberText(created, id, textDigest);
      return created !== undefined;
    }
    if (replace) current.carriedBy = replace;
    if (textDigest !== undefined && current.text === textDigest) return false;
    const wrote = this.setTo(b, user, current, user.props);
    if (textDigest !== undefined) this.rememberText(current, id, textDigest);
    else current.text = NO_TEXT;
    return wrote;
  }

  private setTo(b: ChunkBuilder, user: CheckedUser, current: UserDigests, desired: UserProps): boolean {
    const id = user.id;
    const e = b.beginUpsert(id, false);
    for (const [prop, json] of desired) {
      if (json === null) continue;
      const digest = digestOf(json);
      if (current.get(prop) !== digest) this.set(b, e, user, current, prop, json, digest);
    }
    for (const prop of current.keys()) if (desired.get(prop) == null) e.dels.push(prop);
    return this.finish(b, e, id, current);
  }

  /** Merge the user's properties into what the mirror holds (a delta's `changed`; null = clear). Returns whether an entry was written. */
  merge(b: ChunkBuilder, user: CheckedUser): boolean {
    const { id, props: patch } = user;
    const current = this.users.get(id);
    if (!current) return this.create(b, user, patch) !== undefined;
    current.text = NO_TEXT;
    const e = b.beginUpsert(id, false);
    for (const [prop, json] of patch) {
      if (json === null) {
        if (current.has(prop)) e.dels.push(prop);
        continue;
      }
      const digest = digestOf(json);
      if (current.get(prop) !== digest) this.set(b, e, user, current, prop, json, digest);
    }
    return this.finish(b, e, id, current);
  }

  remove(b: ChunkBuilder, id: string): boolean {
    const current = this.users.get(id);
    if (!current) return false;
    for (const prop of current.keys()) this.indexes.get(prop)?.release(b, id);
    this.users.delete(id);
    this.statuses?.userRemoved(id);
    this.workgroupsFollower?.(id, null);
    b.remove(id);
    return true;
  }

  /**
   * A user new to the mirror: every non-null property is a change (the fast path of a replace into an empty mirror).
   * Undefined when it has none (it is not created).
   */
  private create(b: ChunkBuilder, user: CheckedUser, props: UserProps): UserDigests | undefined {
    const id = user.id;
    const stored = new UserDigests();
    const e = b.beginUpsert(id, true);
    for (const [prop, json] of props) if (json !== null) this.set(b, e, user, stored, prop, json, digestOf(json), true);
    if (!e.sets) return void b.abandon(e);
    this.users.set(id, stored);
    this.finish(b, e, id, stored);
    // A status that waited for this user follows its entry.
    this.statuses?.userCreated(b, id);
    return stored;
  }

  /** `added`: the user is being created, and does not have the property yet. */
  private set(b: ChunkBuilder, e: OpenUpsert, user: CheckedUser, stored: UserDigests, prop: string, json: string, digest: number, added = false): void {
    const id = user.id;
    const index = this.indexes.get(prop);
    if (index) {
      // A user being created holds no value yet.
      if (!added) index.release(b, id);
      index.hold(b, indexValue(json), id);
    }
    if (prop === 'lastModifiedDate' && user.modifiedAt !== undefined) b.modifiedAts.push(user.modifiedAt);
    if (prop === 'workgroups') this.workgroupsFollower?.(id, json);
    if (added) stored.add(prop, digest);
    else stored.set(prop, digest);
    const key = keyJson(prop);
    // A name that needs escaping: the data is built in Node after all.
    if (e.composed && key.length !== prop.length + 2) b.decompose(e);
    if (!e.composed) b.appendData(e, key, json);
    b.entryArgs.push(prop, json);
    e.sets++;
  }

  private finish(b: ChunkBuilder, e: OpenUpsert, id: string, stored: UserDigests): boolean {
    if (!e.sets && !e.dels.length) return b.abandon(e);
    // Deletions are written into the data as nulls: not composable by the script.
    if (e.dels.length) b.decompose(e);
    for (const prop of e.dels) {
      this.indexes.get(prop)?.release(b, id);
      if (prop === 'workgroups') this.workgroupsFollower?.(id, null);
      stored.delete(prop);
      b.appendData(e, keyJson(prop), 'null');
    }
    b.endUpsert(e);
    return true;
  }
}
