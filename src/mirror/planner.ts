/**
 * What the mirror's queue holds and how it becomes Redis round trips (chunks). Deltas waiting together are
 * coalesced into one chunk, in order; a full replace is planned on its own, in chunks of at most
 * replaceBatchSize change entries (unchanged users cost nothing), removals of absent users last.
 */
import type { Logger } from '../log/logger.js';
import { ChunkBuilder } from './chunk-builder.js';
import {
  ListedUsers,
  usersIn,
  type CheckedStatus,
  type CheckedUser,
  type DeltaUsers,
  type ReceivedUsers,
  type ReplaceUser,
  type ReplaceUsers,
} from './input.js';
import type { HeldRemovals, HeldRequest } from './held.js';
import type { MirrorState } from './state.js';

export type QueueItem =
  | { kind: 'delta'; received: ReceivedUsers }
  | { kind: 'replace'; received: ReceivedUsers; reason: string }
  /** The operator's word on held removals (`icwatch removals`); `taken` once the writer took it in Redis. */
  | { kind: 'held'; request: HeldRequest; taken?: boolean };

export interface Chunk {
  builder: ChunkBuilder;
  /** Meta field/value pairs this chunk sets. */
  meta: string[];
  /** Queue items this chunk completes when it commits (0 for the first chunks of a full replace). */
  completes: number;
  /** performance.now() at arrival of each message the chunk completes (icwatch_lag_seconds). */
  receivedAts: number[];
  /** performance.now() at arrival of the oldest message whose writes the chunk carries. */
  receivedAt: number;
  /** Set on the last chunk of a full replace: the reason it is counted under. */
  fullSync?: string;
  /**
   * Set on the last chunk of a full replace cut short, instead of fullSync: why it removed nobody, and whether the
   * writer must ask ICWS for another (its source asks itself when the message was malformed or its stream broke).
   */
  incompleteReplace?: { problem: string; askAgain: boolean };
  /** Set on the last chunk of a full replace of statuses: how many it carried (its garbage is collected after it). */
  statusesReplaced?: number;
  /** Whether lastModifiedDate changes in this chunk count for icwatch_source_lag_seconds. */
  sourceLag: boolean;
  /** Filled in when the chunk is planned: net index writes, held writes, and the epoch and seq it was planned against. */
  indexArgs: string[];
  indexWrites: number;
  heldArgs: readonly string[];
  heldWrites: number;
  catalogueArgs: readonly string[];
  catalogueWrites: number;
  epoch: string;
  baseSeq: number;
}

export interface PlannerOptions {
  replaceBatchSize: number;
  maxBatchMessages: number;
  logger: Logger;
  /** The delete guard's memory (src/mirror/held.ts); absent = no guard. */
  held?: HeldRemovals;
}

type Planned = Omit<Chunk, 'indexArgs' | 'indexWrites' | 'heldArgs' | 'heldWrites' | 'catalogueArgs' | 'catalogueWrites' | 'epoch' | 'baseSeq'>;

/** A plan that takes several round trips (a full replace, the removals an operator applies). */
export interface MultiChunkPlanner {
  plan(): Planned & { done: boolean };
  /**
   * Undefined when a chunk can be planned now; else what to wait for first (a full replace whose next users are still
   * being read). `idle`: no chunk is in flight, so a short chunk is worth sending rather than waiting to fill one.
   */
  notReady?(idle: boolean): Promise<void> | undefined;
}

/**
 * Apply one delta message to memory and the builder: added, then changed, then removed. A user shown again leaves
 * the hold; removals past the delete guard's bounds are held instead (README "Mass deletions are held").
 */
function planDelta(state: MirrorState, b: ChunkBuilder, delta: DeltaUsers, held: HeldRemovals | undefined): void {
  const before = state.size;
  for (const user of delta.added) {
    held?.release(b, user.id);
    state.setExact(b, user);
  }
  for (const user of delta.changed) {
    held?.release(b, user.id);
    state.merge(b, user);
  }
  const removals = new Set<string>();
  for (const id of delta.removed) {
    // A held user stays held: only the operator's word or ICWS showing it again ends that.
    if (!held?.has(id) && state.users.has(id)) removals.add(id);
  }
  const excess = held?.excess(removals.size, before);
  if (excess) held!.hold(b, [...removals], 'delta', before, excess);
  else for (const id of removals) state.remove(b, id);
}

/** Coalesce the deltas at the head of `items` (in order) into one chunk. */
export function planDeltas(state: MirrorState, items: readonly QueueItem[], options: PlannerOptions): Planned {
  const b = new ChunkBuilder();
  const receivedAts: number[] = [];
  let users = 0;
  for (const item of items) {
    if (item.kind !== 'delta' || receivedAts.length >= Math.max(1, options.maxBatchMessages)) break;
    const input = item.received.input;
    // A full replace of statuses is planned on its own, in chunks (StatusReplacePlanner).
    if (isStatusReplace(item)) break;
    // A message is never split (it is atomic); the size bound only stops adding more messages.
    const size = usersIn(input);
    if (receivedAts.length && users + size > options.replaceBatchSize) break;
    users += size;
    // A full replace queued as a delta cannot be: the writer takes it as the replace it is.
    if (input.kind === 'delta') planDelta(state, b, input.read(), options.held);
    else if (input.kind === 'statuses' && state.statuses)
      for (const status of input.statuses) state.statuses.apply(b, status, false, state.users.has(status.id));
    else if (input.kind === 'catalogue') state.statuses?.catalogueChanged(b, input);
    receivedAts.push(item.received.receivedAt);
  }
  return { builder: b, meta: [], completes: receivedAts.length, receivedAts, receivedAt: receivedAts[0]!, sourceLag: true };
}

/** Whether the queue item is a full replace of statuses (presence: the message after each PUT of the subscription). */
export function isStatusReplace(item: QueueItem): boolean {
  return item.kind === 'delta' && item.received.input.kind === 'statuses' && item.received.input.replace;
}

/**
 * A full replace of statuses (docs/presence.md), planned chunk by chunk like a full replace of users: each listed
 * user's status is set exactly, then the statuses of users it does not list are cleared. Only what differs is written,
 * so readers never see the statuses emptied.
 */
export class StatusReplacePlanner implements MultiChunkPlanner {
  private readonly statuses: readonly CheckedStatus[];
  private next = 0;
  private readonly seen = new Set<string>();
  private absent: string[] | undefined;
  private nextAbsent = 0;
  readonly receivedAt: number;

  constructor(
    private readonly state: MirrorState,
    item: Extract<QueueItem, { kind: 'delta' }>,
    private readonly options: PlannerOptions,
  ) {
    const input = item.received.input;
    this.statuses = input.kind === 'statuses' ? input.statuses : [];
    this.receivedAt = item.received.receivedAt;
  }

  plan(): Planned & { done: boolean } {
    const b = new ChunkBuilder();
    const book = this.state.statuses;
    const budget = this.options.replaceBatchSize;
    const last = Math.min(this.statuses.length, this.next + budget);
    while (this.next < last && b.entries < budget) {
      const status = this.statuses[this.next++]!;
      this.seen.add(status.id);
      book?.apply(b, status, true, this.state.users.has(status.id));
    }
    if (this.next >= this.statuses.length) {
      this.absent ??= (book?.ids() ?? []).filter((id) => !this.seen.has(id));
      while (this.nextAbsent < this.absent.length && b.entries < budget) book!.clear(b, this.absent[this.nextAbsent++]!);
    }
    const done = this.next >= this.statuses.length && this.nextAbsent >= (this.absent?.length ?? 0);
    return {
      builder: b,
      meta: [],
      done,
      completes: done ? 1 : 0,
      receivedAts: done ? [this.receivedAt] : [],
      receivedAt: this.receivedAt,
      sourceLag: false,
      ...(done ? { statusesReplaced: this.statuses.length } : {}),
    };
  }
}

/**
 * A full replace planned chunk by chunk, each against memory as the previous chunks left it, its users taken as they
 * arrive (ReplaceUsers, input.ts). The users it omits are removed once it has ended complete; a replace cut short
 * (its message malformed after all, its stream broken) or planned again after a failed write (its first users are
 * gone) applies what it carried and removes nobody.
 */
export class ReplacePlanner implements MultiChunkPlanner {
  /** The replace's users, checked by the source (or known to the mirror as their text). */
  private readonly users: ReplaceUsers;
  private absent: string[] | undefined;
  private nextAbsent = 0;
  /** Its number, marked on the users it carries (MirrorState.beginReplace). */
  private readonly replace: number;
  private first = true;
  /** Why the users it omits are not removed (undefined: they are, once it ended complete). */
  private incomplete: string | undefined;
  /** Planned again after a failed write, its first users gone: the writer asks ICWS for another replace. */
  private readonly replanned: boolean;
  readonly receivedAt: number;
  readonly reason: string;
  /** The mirror's users before the replace (what the delete guard's fraction is of). */
  private readonly usersBefore: number;

  constructor(
    private readonly state: MirrorState,
    item: Extract<QueueItem, { kind: 'replace' }>,
    private readonly options: PlannerOptions,
  ) {
    this.usersBefore = state.size;
    this.replace = state.beginReplace();
    const input = item.received.input;
    const delta = input.kind === 'delta' ? input.read() : undefined;
    this.users = input.kind === 'replace' ? input.users : new ListedUsers(delta ? [...delta.added, ...delta.changed] : []);
    // Planned again after a failed write: from its first user if they are still there, else without those taken.
    const taken = this.users.taken;
    this.replanned = taken > 0 && !this.users.restart();
    if (this.replanned) this.incomplete = `planned again after a failed write, without the ${taken} users read before it`;
    this.receivedAt = item.received.receivedAt;
    this.reason = item.reason;
  }

  /**
   * ReplaceUsers still being read: a chunk waits for a full batch of them (or half of what the source reads ahead,
   * if that is less), or for Redis to be idle.
   */
  notReady(idle: boolean): Promise<void> | undefined {
    const { waiting, ended, readAhead } = this.users;
    const batch = Math.min(this.options.replaceBatchSize, Math.ceil(readAhead / 2));
    if (ended || waiting >= batch || (idle && waiting > 0)) return undefined;
    return this.users.whenMore();
  }

  /** The next chunk; `done` on the last one (which completes the queue item and clears `syncing`). */
  plan(): Planned & { done: boolean } {
    const b = new ChunkBuilder();
    const budget = this.options.replaceBatchSize;
    // Bounded by users looked at, not only by entries written: a chunk of an unchanged directory writes nothing, and
    // planning all of it at once would hold the event loop (the writer yields between chunks).
    for (let looked = 0; looked < budget && b.entries < budget; looked++) {
      const user = this.users.next();
      if (!user) break;
      this.planUser(b, user);
    }
    // Ended, and every user it carried taken.
    const ended = this.users.waiting ? undefined : this.users.ended;
    if (ended && !ended.complete) this.incomplete ??= ended.problem;
    if (ended && !this.incomplete) {
      this.absent ??= this.absentUsers(b);
      while (this.nextAbsent < this.absent.length && b.entries < budget) this.state.remove(b, this.absent[this.nextAbsent++]!);
    }
    const done = ended !== undefined && (this.incomplete !== undefined || this.nextAbsent >= this.absent!.length);
    const complete = done && !this.incomplete;
    // A replace done in one round trip is atomic; one that takes several shows syncing=1 until its last chunk (one
    // cut short leaves it so: the source asks ICWS for another).
    const meta = complete ? ['syncing', '0', 'syncedAt', String(Date.now())] : this.first ? ['syncing', '1'] : [];
    this.first = false;
    return {
      builder: b,
      meta,
      done,
      completes: done ? 1 : 0,
      receivedAts: done ? [this.receivedAt] : [],
      receivedAt: this.receivedAt,
      fullSync: complete ? this.reason : undefined,
      ...(done && this.incomplete ? { incompleteReplace: { problem: this.incomplete, askAgain: this.replanned } } : {}),
      // A user first seen in a full replace is not a fresh change: its lastModifiedDate may be years old.
      sourceLag: false,
    };
  }

  private planUser(b: ChunkBuilder, user: ReplaceUser): void {
    if (user.kind === 'to-read') {
      const read = user.read();
      if (read.kind === 'checked') this.setExact(b, read);
      else this.options.logger.warn(`skipped malformed user ${read.id} in full replace: ${read.problem}`, { user: read.id, problem: read.problem });
      return;
    }
    if (user.kind === 'checked') return this.setExact(b, user);
    // The same text as at the previous full replace, and no change since: nothing to read.
    if (this.state.unchangedSince(user.id, user.textDigest, this.replace)) return;
    // Known as its text, but changed since (a delta came, or it appears twice in this replace): read it now.
    const checked = user.read();
    if (typeof checked === 'string') {
      this.options.logger.warn(`skipped malformed user ${user.id} in full replace: ${checked}`, { user: user.id, problem: checked });
      return;
    }
    this.setExact(b, checked);
  }

  private setExact(b: ChunkBuilder, user: CheckedUser): void {
    this.state.setExact(b, user, this.replace);
  }

  /**
   * The users the replace omits, to be removed: held users it carries leave the hold, held users it omits stay held,
   * and the others are removed unless there are more than the delete guard allows, then they are held too.
   */
  private absentUsers(b: ChunkBuilder): string[] {
    const held = this.options.held;
    const absent = this.state.notCarriedBy(this.replace);
    if (!held || (!held.size && !held.excess(absent.length, this.usersBefore))) return absent;
    for (const id of [...held.ids]) if (this.state.carriedBy(id, this.replace)) held.release(b, id);
    const removals = held.size ? absent.filter((id) => !held.has(id)) : absent;
    const stillHeld = absent.length - removals.length;
    const excess = held.excess(removals.length, this.usersBefore);
    if (excess) {
      held.hold(b, removals, 'full replace', this.usersBefore, excess);
      return [];
    }
    if (stillHeld) held.confirmed(b, stillHeld);
    return removals;
  }
}

/**
 * The operator's word on held removals (`icwatch removals --apply | --discard`): apply removes every held user with
 * ordinary `remove` entries, in chunks of at most replaceBatchSize; discard lets go of the hold and keeps the users.
 * Either way the hold is gone once the last chunk commits (the apply script deletes {P}:held:info with the last id).
 */
export class HeldRequestPlanner implements MultiChunkPlanner {
  private readonly ids: string[];
  private next = 0;
  readonly receivedAt = performance.now();

  constructor(
    private readonly state: MirrorState,
    private readonly held: HeldRemovals,
    readonly request: Extract<QueueItem, { kind: 'held' }>,
    private readonly options: PlannerOptions,
  ) {
    this.ids = request.taken ? [...held.ids] : [];
  }

  get count(): number {
    return this.ids.length;
  }

  plan(): Planned & { done: boolean } {
    const b = new ChunkBuilder();
    const apply = this.request.request.action === 'apply';
    const last = apply ? Math.min(this.ids.length, this.next + this.options.replaceBatchSize) : this.ids.length;
    for (; this.next < last; this.next++) {
      const id = this.ids[this.next]!;
      this.held.release(b, id);
      if (apply) this.state.remove(b, id);
    }
    const done = this.next >= this.ids.length;
    return {
      builder: b,
      meta: [],
      done,
      completes: done ? 1 : 0,
      receivedAts: [],
      receivedAt: this.receivedAt,
      sourceLag: false,
    };
  }
}
