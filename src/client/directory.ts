/**
 * The client's local copy of the directory: users by id, and value → ids lookups for the properties the
 * application asked to index (any other property is found by a scan). A value is keyed as the string itself
 * when it is one, else by its JSON, as the mirror's own `{P}:idx:<property>` does.
 */
import type { UserProps, UserRecord } from '../protocol/frames.js';

/** One change applied to the local map: `data` holds the new values, `null` for a property that was cleared. */
export type Change = { op: 'upsert'; seq: number; id: string; data: UserProps } | { op: 'remove'; seq: number; id: string };

const indexKey = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

export class UserDirectory {
  private map = new Map<string, UserProps>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();

  constructor(indexedProperties: readonly string[] = []) {
    for (const p of indexedProperties) this.indexes.set(p, new Map());
  }

  /** Every user, by id. Read it, do not change it: the client replaces it on a snapshot and updates it on changes. */
  get users(): Map<string, UserProps> {
    return this.map;
  }

  get size(): number {
    return this.map.size;
  }

  get(id: string): UserProps | undefined {
    return this.map.get(id);
  }

  /** The users whose `property` equals `value` (deep equality through JSON for objects). */
  find(property: string, value: unknown): UserRecord[] {
    const key = indexKey(value);
    const index = this.indexes.get(property);
    const ids = index
      ? [...(index.get(key) ?? [])]
      : [...this.map].filter(([, u]) => u[property] !== undefined && indexKey(u[property]) === key).map(([id]) => id);
    return ids.map((id) => ({ id, ...this.map.get(id)! }));
  }

  /** Replaces everything with a snapshot's users. */
  replace(users: Iterable<UserRecord> | Map<string, UserProps>): void {
    this.map = new Map();
    for (const index of this.indexes.values()) index.clear();
    if (users instanceof Map) for (const [id, props] of users) this.put(id, props);
    else for (const { id, ...props } of users) this.put(id, props);
  }

  apply(change: Change): void {
    const before = this.map.get(change.id);
    if (before) this.unindex(change.id, before);
    if (change.op === 'remove') {
      this.map.delete(change.id);
      return;
    }
    const user = { ...before };
    for (const [k, v] of Object.entries(change.data)) {
      if (v === null) delete user[k];
      else user[k] = v;
    }
    this.put(change.id, user);
  }

  private put(id: string, props: UserProps): void {
    this.map.set(id, props);
    for (const [property, index] of this.indexes) {
      if (props[property] === undefined) continue;
      const key = indexKey(props[property]);
      let ids = index.get(key);
      if (!ids) index.set(key, (ids = new Set()));
      ids.add(id);
    }
  }

  private unindex(id: string, props: UserProps): void {
    for (const [property, index] of this.indexes) {
      if (props[property] === undefined) continue;
      const key = indexKey(props[property]);
      const ids = index.get(key);
      ids?.delete(id);
      if (ids?.size === 0) index.delete(key);
    }
  }
}
