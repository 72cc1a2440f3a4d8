/**
 * What the mirror's queue holds and how it becomes Redis round trips (chunks). Deltas waiting together are
 * coalesced into one chunk, in order; a full replace is planned on its own, in chunks of at most
 * replaceBatchSize change entries (unchanged users cost nothing), removals of absent users last.
 */
import type { Logger } from '../log/logger.js';
import type { ReceivedUsersMessage, UsersMessage } from '../icws/messages.js';
import { encodeUser, type EncodedProps } from '../icws/encode-user.js';
import { textDigestOf, UserText } from '../icws/text-digest.js';
import { ChunkBuilder } from './chunk-builder.js';
import type { HeldRemovals, HeldRequest } from './held.js';
import type { MirrorState } from './state.js';

export type QueueItem =
  | { kind: 'delta'; received: ReceivedUsersMessage }
  | { kind: 'replace'; received: ReceivedUsersMessage; reason: string }
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
  /** Whether lastModifiedDate changes in this chunk count for icwatch_source_lag_seconds. */
  sourceLag: boolean;
  /** Filled in when the chunk is planned: net index writes, held writes, and the epoch and seq it was planned against. */
  indexArgs: string[];
  indexWrites: number;
  heldArgs: readonly string[];
  heldWrites: number;
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

type Planned = Omit<Chunk, 'indexArgs' | 'indexWrites' | 'heldArgs' | 'heldWrites' | 'epoch' | 'baseSeq'>;

/** A plan that takes several round trips (a full replace, the removals an operator applies). */
export interface MultiChunkPlanner {
  plan(): Planned & { done: boolean };
}

function listOf(message: UsersMessage, field: 'added' | 'changed' | 'removed', logger: Logger): unknown[] {
  const list = message[field];
  if (list === undefined || list === null) return [];
  if (Array.isArray(list)) return list;
  logger.warn(`usersMessage.${field} is not a list (got ${typeof list}); ignored`, { subscriptionId: message.subscriptionId });
  return [];
}

function usersIn(message: UsersMessage): number {
  return (message.added?.length ?? 0) + (message.changed?.length ?? 0) + (message.removed?.length ?? 0);
}

function encodeOrWarn(user: unknown, keepNulls: boolean, where: string, logger: Logger): { id: string; props: EncodedProps } | undefined {
  const encoded = encodeUser(user, keepNulls);
  if (encoded.ok) return encoded;
  logger.warn(`skipped malformed user ${encoded.id} in ${where}: ${encoded.problem}`, { user: encoded.id, problem: encoded.problem });
  return undefined;
}

/**
 * Apply one delta message to memory and the builder: added, then changed, then removed. A user shown again leaves
 * the hold; removals past the delete guard's bounds are held instead (README "Mass deletions are held").
 */
function planDelta(state: MirrorState, b: ChunkBuilder, message: UsersMessage, logger: Logger, held: HeldRemovals | undefined): void {
  const before = state.size;
  for (const user of listOf(message, 'added', logger)) {
    const u = encodeOrWarn(user, false, 'added', logger);
    if (!u) continue;
    held?.release(b, u.id);
    state.setExact(b, u.id, u.props);
  }
  for (const user of listOf(message, 'changed', logger)) {
    const u = encodeOrWarn(user, true, 'changed', logger);
    if (!u) continue;
    held?.release(b, u.id);
    state.merge(b, u.id, u.props);
  }
  const removals = new Set<string>();
  for (const id of listOf(message, 'removed', logger)) {
    if (typeof id !== 'string' || id === '') {
      logger.warn(`skipped malformed removed id: expected a non-empty string, got ${JSON.stringify(id)?.slice(0, 40)}`);
      continue;
    }
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
    // A message is never split (it is atomic); the size bound only stops adding more messages.
    const size = usersIn(item.received.message);
    if (receivedAts.length && users + size > options.replaceBatchSize) break;
    users += size;
    planDelta(state, b, item.received.message, options.logger, options.held);
    receivedAts.push(item.received.receivedAt);
  }
  return { builder: b, meta: [], completes: receivedAts.length, receivedAts, receivedAt: receivedAts[0]!, sourceLag: true };
}

/** A full replace planned chunk by chunk, each against memory as the previous chunks left it. */
export class ReplacePlanner implements MultiChunkPlanner {
  /** The replace's users (ICWS objects, encoded one at a time). */
  private readonly users: unknown[];
  private next = 0;
  private absent: string[] | undefined;
  private nextAbsent = 0;
  private readonly seen = new Set<string>();
  private first = true;
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
    const m = item.received.message;
    // A full replace carries its users in `added` (and, defensively, `changed`); `removed` means nothing here.
    const added = listOf(m, 'added', options.logger);
    const changed = listOf(m, 'changed', options.logger);
    this.users = changed.length ? [...added, ...changed] : added;
    this.receivedAt = item.received.receivedAt;
    this.reason = item.reason;
  }

  /** The next chunk; `done` on the last one (which completes the queue item and clears `syncing`). */
  plan(): Planned & { done: boolean } {
    const b = new ChunkBuilder();
    const budget = this.options.replaceBatchSize;
    // Bounded by users looked at, not only by entries written: a chunk of an unchanged directory writes nothing, and
    // planning all of it at once would hold the event loop (the writer yields between chunks).
    const last = Math.min(this.users.length, this.next + budget);
    while (this.next < last && b.entries < budget) {
      let user = this.users[this.next++];
      // The same text as at the previous full replace, and no change since: nothing to encode or compare.
      const textDigest = textDigestOf(user);
      const id = user instanceof UserText ? user.id : (user as { configurationId?: { id?: unknown } } | null)?.configurationId?.id;
      if (textDigest !== undefined && typeof id === 'string' && this.state.unchangedSince(id, textDigest)) {
        this.seen.add(id);
        continue;
      }
      if (user instanceof UserText) {
        // Checked and encoded when it was read: nothing to parse or encode.
        const props = user.props();
        if (props) {
          this.seen.add(user.id);
          this.state.setExact(b, user.id, props, textDigest);
          continue;
        }
        // Held unchanged, but changed since (a user seen twice in one replace): parse it now, to die young.
        user = user.parse();
      }
      const u = encodeOrWarn(user, false, 'full replace', this.options.logger);
      if (!u) continue;
      this.seen.add(u.id);
      this.state.setExact(b, u.id, u.props, textDigest);
    }
    if (this.next >= this.users.length) {
      this.absent ??= this.absentUsers(b);
      while (this.nextAbsent < this.absent.length && b.entries < budget) this.state.remove(b, this.absent[this.nextAbsent++]!);
    }
    const done = this.next >= this.users.length && this.nextAbsent >= (this.absent?.length ?? 0);
    // A replace done in one round trip is atomic; one that takes several shows syncing=1 until its last chunk.
    const meta = done ? ['syncing', '0', 'syncedAt', String(Date.now())] : this.first ? ['syncing', '1'] : [];
    this.first = false;
    return {
      builder: b,
      meta,
      done,
      completes: done ? 1 : 0,
      receivedAts: done ? [this.receivedAt] : [],
      receivedAt: this.receivedAt,
      fullSync: done ? this.reason : undefined,
      // A user first seen in a full replace is not a fresh change: its lastModifiedDate may be years old.
      sourceLag: false,
    };
  }

  /**
   * The users the replace omits, to be removed: held users it carries leave the hold, held users it omits stay held,
   * and the others are removed unless there are more than the delete guard allows, then they are held too.
   */
  private absentUsers(b: ChunkBuilder): string[] {
    const held = this.options.held;
    const absent = [...this.state.users.keys()].filter((id) => !this.seen.has(id));
    if (!held || (!held.size && !held.excess(absent.length, this.usersBefore))) return absent;
    for (const id of [...held.ids]) if (this.seen.has(id)) held.release(b, id);
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
