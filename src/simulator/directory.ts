/**
 * The simulator's user directory: the truth every subscription is projected from. Every mutation goes through
 * `apply`, which stamps lastModifiedDate, updates the store and hands the delta to the listeners (the sessions),
 * so a test's mutation and the churn reach clients the same way.
 */
import type { User } from '../icws/messages.js';
import { compactIso } from './random.js';

/** One mutation, as usersMessage lists: `changed` users carry only the changed properties, null = cleared. */
export interface DirectoryDelta {
  added?: User[];
  changed?: User[];
  removed?: string[];
}

/** `lost`: the change happened but its message is lost (nobody is sent it; caches must still forget the user). */
export type DeltaListener = (delta: DirectoryDelta, lost: boolean) => void;

/** Thrown for a mutation that names no such user (or adds one that exists); the control API answers 404 / 409. */
export class DirectoryError extends Error {
  constructor(
    message: string,
    readonly kind: 'unknown' | 'exists' | 'invalid',
  ) {
    super(message);
    this.name = 'DirectoryError';
  }
}

const withoutNulls = (user: User): User => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(user)) if (v !== null && v !== undefined) out[k] = structuredClone(v);
  return out as User;
};

export class Directory {
  private readonly byId = new Map<string, User>();
  private readonly listeners = new Set<DeltaListener>();
  /** Ids in an array too, with each one's position, so the churn picks a random user in O(1). */
  private readonly idList: string[] = [];
  private readonly position = new Map<string, number>();
  /** extension → user id, so the churn finds free extensions and owners without scanning. */
  private readonly extensions = new Map<string, string>();

  constructor(users: Iterable<User>) {
    for (const u of users) this.store(u);
  }

  private store(u: User): void {
    const id = u.configurationId.id;
    this.byId.set(id, u);
    this.position.set(id, this.idList.length);
    this.idList.push(id);
    if (typeof u.extension === 'string') this.extensions.set(u.extension, id);
  }

  private unstore(id: string): void {
    const u = this.byId.get(id);
    if (!u) return;
    this.byId.delete(id);
    if (typeof u.extension === 'string' && this.extensions.get(u.extension) === id) this.extensions.delete(u.extension);
    const at = this.position.get(id)!;
    const last = this.idList.pop()!;
    if (last !== id) {
      this.idList[at] = last;
      this.position.set(last, at);
    }
    this.position.delete(id);
  }

  /** The user id at a position in [0, size): with a random position, a random user. */
  idAt(index: number): string | undefined {
    return this.idList[index];
  }

  /** The user holding this extension, if any. */
  extensionOwner(extension: string): string | undefined {
    return this.extensions.get(extension);
  }

  get size(): number {
    return this.byId.size;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The stored user itself (no copy): for the simulator's own read-only use. */
  peek(id: string): User | undefined {
    return this.byId.get(id);
  }

  /** The stored users themselves, in insertion order (no copies). */
  values(): IterableIterator<User> {
    return this.byId.values();
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  private moveExtension(id: string, from: unknown, to: unknown): void {
    if (typeof from === 'string' && this.extensions.get(from) === id) this.extensions.delete(from);
    if (typeof to === 'string') this.extensions.set(to, id);
  }

  onDelta(listener: DeltaListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Checks the whole delta first (nothing is applied when one entry is wrong), then applies it in usersMessage
   * order (added, changed, removed) and notifies. Stamps lastModifiedDate on added and changed users unless given.
   * `lost`: the change happens, its message is lost (listeners are told so; tests of the mirror's verification).
   */
  apply(delta: DirectoryDelta, nowMs = Date.now(), lost = false): DirectoryDelta {
    const stamp = compactIso(nowMs);
    const added = (delta.added ?? []).map((u) => withoutNulls({ lastModifiedDate: stamp, ...u }));
    const changed = (delta.changed ?? []).map((u) => ({ ...u, lastModifiedDate: u.lastModifiedDate ?? stamp }));
    const removed = [...(delta.removed ?? [])];
    const adding = new Set<string>();
    for (const u of added) {
      const id = u.configurationId?.id;
      if (typeof id !== 'string' || id === '') throw new DirectoryError('an added user needs configurationId.id (a non-empty string)', 'invalid');
      if (this.byId.has(id) || adding.has(id)) throw new DirectoryError(`user "${id}" already exists`, 'exists');
      adding.add(id);
    }
    for (const u of changed) {
      const id = u.configurationId?.id;
      if (!this.byId.has(id) && !adding.has(id)) throw new DirectoryError(`no user "${id}" to change`, 'unknown');
    }
    for (const id of removed) if (!this.byId.has(id) && !adding.has(id)) throw new DirectoryError(`no user "${id}" to remove`, 'unknown');

    for (const u of added) {
      u.configurationId = { ...u.configurationId, uri: u.configurationId.uri ?? `/configuration/users/${u.configurationId.id}` };
      this.store(u);
    }
    for (const u of changed) {
      const stored = this.byId.get(u.configurationId.id)!;
      for (const [k, v] of Object.entries(u)) {
        if (k === 'configurationId') continue;
        if (k === 'extension') this.moveExtension(u.configurationId.id, stored.extension, v);
        if (v === null || v === undefined) delete stored[k];
        else stored[k] = structuredClone(v);
      }
    }
    for (const id of removed) this.unstore(id);

    const applied: DirectoryDelta = {};
    if (added.length) applied.added = added;
    if (changed.length)
      applied.changed = changed.map((u) => ({ ...u, configurationId: this.byId.get(u.configurationId.id)?.configurationId ?? u.configurationId }));
    if (removed.length) applied.removed = removed;
    for (const listener of this.listeners) listener(applied, lost);
    return applied;
  }
}
