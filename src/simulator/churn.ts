/**
 * Deterministic churn from the seed: mostly statusText changes, also extension changes (including an extension
 * moving from one user to another within one message), null-clears, workgroup, skill and title changes, adds and
 * removes. Changes are grouped into single- and multi-user messages, never touching one user twice in a message.
 */
import type { User } from '../icws/messages.js';
import type { Directory, DirectoryDelta } from './directory.js';
import { Random } from './random.js';
import { generateUser, SKILLS, STATUS_TEXTS, TITLES, WORKGROUPS, type GenerateOptions } from './users.js';

export type ChurnKind = 'status' | 'extension' | 'extensionMove' | 'clear' | 'workgroups' | 'skills' | 'title' | 'add' | 'remove';

/** Cumulative weights: what share of changes each kind is. */
const KINDS: [ChurnKind, number][] = [
  ['status', 0.55],
  ['extension', 0.06],
  ['extensionMove', 0.05],
  ['clear', 0.08],
  ['workgroups', 0.08],
  ['skills', 0.06],
  ['title', 0.05],
  ['add', 0.04],
  ['remove', 0.03],
];
const CLEARABLE = ['statusText', 'alias', 'notes', 'defaultWorkstation', 'customAttributes', 'extension'];
/** Largest number of changes grouped into one message. */
const MAX_CHANGES_PER_MESSAGE = 5;

export class Churn {
  private readonly rng: Random;
  private readonly takenIds: Set<string>;
  private nextIndex: number;

  constructor(
    private readonly directory: Directory,
    seed: number,
    /** Users added by the churn are generated for this `configuration` feature version. */
    private readonly options: GenerateOptions = {},
  ) {
    this.rng = new Random(seed ^ 0x0c4a2e);
    this.takenIds = new Set(directory.ids());
    this.nextIndex = directory.size;
  }

  /** Applies `count` changes now, in messages of one to five changes; returns the count of each kind applied. */
  run(count: number, nowMs = Date.now()): Partial<Record<ChurnKind, number>> {
    const done: Partial<Record<ChurnKind, number>> = {};
    let left = count;
    while (left > 0) {
      const size = this.rng.chance(0.65) ? 1 : Math.min(left, this.rng.int(2, MAX_CHANGES_PER_MESSAGE));
      const delta: Required<DirectoryDelta> = { added: [], changed: [], removed: [] };
      const used = new Set<string>();
      for (let i = 0; i < size; i++) {
        const kind = this.kind();
        if (this.change(kind, delta, used, nowMs)) done[kind] = (done[kind] ?? 0) + 1;
      }
      left -= size;
      if (delta.added.length || delta.changed.length || delta.removed.length) {
        this.directory.apply(
          {
            ...(delta.added.length ? { added: delta.added } : {}),
            ...(delta.changed.length ? { changed: delta.changed } : {}),
            ...(delta.removed.length ? { removed: delta.removed } : {}),
          },
          nowMs,
        );
      }
    }
    return done;
  }

  private kind(): ChurnKind {
    let r = this.rng.next();
    for (const [kind, weight] of KINDS) {
      if (r < weight) return kind;
      r -= weight;
    }
    return 'status';
  }

  /** A random user not yet touched by this message (a few tries; undefined when the directory is small or empty). */
  private pickUser(used: Set<string>, test: (u: User) => boolean = () => true): User | undefined {
    for (let tries = 0; tries < 8 && this.directory.size > 0; tries++) {
      const id = this.directory.idAt(this.rng.int(0, this.directory.size - 1))!;
      const user = this.directory.peek(id)!;
      if (!used.has(id) && test(user)) {
        used.add(id);
        return user;
      }
    }
    return undefined;
  }

  /** An extension nobody holds and this message has not given out yet (`used` also remembers extensions, as "ext:…"). */
  private freeExtension(used: Set<string>): string {
    const top = 1000 + 2 * this.directory.size + 1000;
    for (;;) {
      const ext = String(this.rng.int(1000, top));
      if (!this.directory.extensionOwner(ext) && !used.has(`ext:${ext}`)) {
        used.add(`ext:${ext}`);
        return ext;
      }
    }
  }

  private change(kind: ChurnKind, delta: Required<DirectoryDelta>, used: Set<string>, nowMs: number): boolean {
    const rng = this.rng;
    const ref = (u: User) => ({ configurationId: u.configurationId });
    if (kind === 'add' || this.directory.size === 0) {
      const user = generateUser(this.nextIndex++, rng, this.takenIds, nowMs, this.options);
      if (this.directory.has(user.configurationId.id)) return false; // a test added a user by that id
      if (typeof user.extension === 'string' && (this.directory.extensionOwner(user.extension) || used.has(`ext:${user.extension}`)))
        user.extension = this.freeExtension(used);
      used.add(user.configurationId.id);
      delta.added.push(user);
      return true;
    }
    if (kind === 'remove') {
      const u = this.pickUser(used);
      if (!u) return false;
      delta.removed.push(u.configurationId.id);
      return true;
    }
    if (kind === 'extensionMove') {
      const from = this.pickUser(used, (u) => typeof u.extension === 'string');
      const to = from && this.pickUser(used);
      if (!from || !to) return false;
      const pair = [
        { ...ref(from), extension: null },
        { ...ref(to), extension: from.extension },
      ];
      // No order is promised inside a message: a mirror must not depend on the clear coming first.
      delta.changed.push(...(rng.chance(0.5) ? pair : pair.reverse()));
      return true;
    }
    if (kind === 'clear') {
      const u = this.pickUser(used, (x) => CLEARABLE.some((p) => x[p] !== undefined));
      if (!u) return false;
      delta.changed.push({ ...ref(u), [rng.pick(CLEARABLE.filter((p) => u[p] !== undefined))]: null });
      return true;
    }
    const u = this.pickUser(used);
    if (!u) return false;
    switch (kind) {
      case 'status':
        delta.changed.push({ ...ref(u), statusText: rng.pick(STATUS_TEXTS.filter((s) => s !== u.statusText)) });
        break;
      case 'extension':
        delta.changed.push({ ...ref(u), extension: this.freeExtension(used) });
        break;
      case 'workgroups':
        delta.changed.push({ ...ref(u), workgroups: rng.sample(WORKGROUPS, rng.int(0, 3)) });
        break;
      case 'skills':
        delta.changed.push({
          ...ref(u),
          skills: { effectiveValue: rng.sample(SKILLS, rng.int(0, 4)).map((s) => ({ id: s, proficiency: rng.int(1, 100), desireToUse: rng.int(1, 100) })) },
        });
        break;
      case 'title': {
        // Nested objects travel whole, as ICWS sends them.
        const pip = { ...(u.personalInformationProperties as Record<string, unknown>), title: rng.pick(TITLES) };
        delta.changed.push({ ...ref(u), personalInformationProperties: pip });
        break;
      }
    }
    return true;
  }
}
