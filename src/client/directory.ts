/**
 * The client's local copy of the directory: users by id, and value → ids lookups for the properties the
 * application asked to index (any other property is found by a scan). A value is keyed as the string itself
 * when it is one, else by its JSON, as the mirror's own `{P}:idx:<property>` does. Each user's presence is its
 * `status` property (docs/presence.md), and the workgroup counts follow every change (src/client/presence.ts).
 */
import type { UserProps, UserRecord } from '../protocol/frames.js';
import { availableRecords, mergeStatus, statusOf, WorkgroupTally, type UserStatus, type WorkgroupCounts } from './presence.js';

/** One change applied to the local map: `data` holds the new values, `null` for a property that was cleared. */
export type Change = { op: 'upsert'; seq: number; id: string; data: UserProps } | { op: 'remove'; seq: number; id: string };

const indexKey = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

export class UserDirectory {
  private map = new Map<string, UserProps>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private readonly tally = new WorkgroupTally();

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
    this.tally.clear();
    if (users instanceof Map) for (const [id, props] of users) this.put(id, props);
    else
      for (const { id, ...props } of users) {
        const twice = this.map.get(id); // a list naming a user twice: the last one counts, once
        if (twice) this.unindex(id, twice);
        this.put(id, props);
      }
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

  /**
   * A status frame: `data` merged into the user's `status` (`null` deletes a property; a status left without
   * `statusId` is gone). Returns the status after it. A status for a user not held yet starts its record (the
   * user's properties merge into it when they come), as an upsert for an unknown user does.
   */
  applyStatus(id: string, data: UserProps): UserStatus | undefined {
    const before = this.map.get(id);
    const status = mergeStatus(statusOf(before), data);
    if (!before && !status) return undefined;
    const user = { ...before };
    if (status) user.status = status;
    else delete user.status;
    if (before) this.unindex(id, before);
    this.put(id, user);
    return status;
  }

  /** Every workgroup some user lists, sorted by id, with its agents and how many are logged in, available, on the phone. */
  workgroups(): WorkgroupCounts[] {
    return this.tally.workgroups();
  }

  /** The records of the users of `workgroupId` whose status is available, sorted by id. */
  available(workgroupId: string): UserRecord[] {
    return availableRecords(this.tally.members(workgroupId), (id) => this.map.get(id));
  }

  private put(id: string, props: UserProps): void {
    this.map.set(id, props);
    this.tally.add(id, props);
    for (const [property, index] of this.indexes) {
      if (props[property] === undefined) continue;
      const key = indexKey(props[property]);
      let ids = index.get(key);
      if (!ids) index.set(key, (ids = new Set()));
      ids.add(id);
    }
  }

  private unindex(id: string, props: UserProps): void {
    this.tally.remove(id, props);
    for (const [property, index] of this.indexes) {
      if (props[property] === undefined) continue;
      const key = indexKey(props[property]);
      const ids = index.get(key);
      ids?.delete(id);
      if (ids?.size === 0) index.delete(key);
    }
  }
}
