/**
 * The mirror's writer: applies one batch of usersMessages at a time to the Redis layout (README "Redis layout"),
 * against the users it holds in memory. The order of batches, their size and what happens on failure are the
 * pipeline's (src/pipeline/pipeline.ts); this module knows Redis: planning round trips (chunks), the apply script,
 * reloading memory from Redis.
 *
 * Within a batch, up to maxInFlightChunks round trips are in flight (the next is planned while the previous one
 * executes). Each chunk is one Lua call that checks meta's epoch and seq first, so a chunk planned on top of one
 * that failed, or retried after a lost reply, writes nothing. On any doubt write$ errors with a retryable error and
 * marks memory stale: the retry reloads from Redis and plans again the items not yet committed (a WriteBatch
 * remembers how far it got): nothing lost, nothing applied twice.
 */
import { Observable } from 'rxjs';
import { componentLogger, type Logger } from '../log/logger.js';
import { mirrorKeys } from './keys.js';
import { observeCommit } from './observe.js';
import {
  HeldRequestPlanner,
  isStatusReplace,
  planDeltas,
  ReplacePlanner,
  StatusReplacePlanner,
  type Chunk,
  type MultiChunkPlanner,
  type PlannerOptions,
  type QueueItem,
} from './planner.js';
import { HeldRemovals, takenValue } from './held.js';
import type { KnownUserTexts, MirroredIds, ReceivedUsers } from './input.js';
import { StatusBook } from './statuses.js';
import { WorkgroupAvailability } from './workgroup-availability.js';
import { RedisHealth } from './redis-health.js';
import { ChunkBuilder } from './chunk-builder.js';
import { MirrorState } from './state.js';
import { MirrorStore, NO_WRITE, swapHeldRequest, type ApplyReply, type Committed, type EpochStart } from './store.js';
import type { CommittedBatch, MirrorOptions, MirrorPhase, MirrorStatus } from './types.js';
import { Activity, collectAfterReplace, type Collected } from '../util/collect-garbage.js';
import type { WriteBatch } from './write-batch.js';
import { MirrorFencedError, MirrorMovedError, RedisUnavailableError, refusedWrite } from './write-errors.js';
import { Verification } from './verification.js';

type Reply = ApplyReply | Error;
/** The full-replace reason of a periodic verification (subscription.verifyIntervalMs). */
export const VERIFY_REASON = 'verify';
/** Why the mirror asks ICWS for a full replace under a new epoch (icwatch_full_syncs_total reasons). */
export type MirrorLossReason = 'redis' | 'incomplete-write' | 'lost-writes';
/** Planning is synchronous (unchanged users need no round trip): after this long, other work runs (HTTP, fan-out). */
export const YIELD_AFTER_MS = 10;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const aborted = (signal: AbortSignal) =>
  signal.aborted ? Promise.resolve() : new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

export class MirrorWriter implements KnownUserTexts, MirroredIds {
  private readonly log: Logger;
  private readonly store: MirrorStore;
  readonly health: RedisHealth;
  private readonly plannerOptions: PlannerOptions;
  private readonly maxInFlight: number;
  private state: MirrorState;
  /** The delete guard's held removals (src/mirror/held.ts), loaded and written with the users. */
  private readonly held: HeldRemovals;
  private phase: MirrorPhase = { type: 'loading' };
  /** A full replace applied since start (readiness). */
  private synced = false;
  private stale = true;
  private epoch = '';
  private seq = 0;
  private users = 0;
  private lastChangeAt: number | undefined;
  /** When batches are written: the collections after a big replace wait for the writer to rest. */
  private readonly activity = new Activity();
  /** Known meta subscriptionId / icServer, so that they are written only when they change. */
  private metaKnown: Record<string, string | undefined> = {};
  /**
   * Told when the mirror must be rewritten from ICWS under a new epoch (README "Integrity"): Redis came back empty (memory
   * holds digests, not users), a write failed halfway, or Redis lost writes this writer had committed.
   */
  private mirrorLost: ((reason: MirrorLossReason) => void) | undefined;
  /** The full replaces asked to verify the mirror: the differences they applied (subscription.verifyIntervalMs). */
  private readonly verification: Verification;
  /** Whether the last write was acknowledged by redis.waitReplicas replicas (a warning when that changes). */
  private replicated = true;
  /** Told after a commit that changed the mirror's ids (MirroredIds: the status subscription follows them). */
  private idsChanged: (() => void) | undefined;
  /** icwatch_available_agents for presence.metricWorkgroups (none: nothing tracked). */
  private readonly workgroups: WorkgroupAvailability | undefined;

  constructor(private readonly options: MirrorOptions) {
    this.log = componentLogger(options.logger, 'mirror');
    this.store = new MirrorStore(options.redis, mirrorKeys(options.keyPrefix), options.fence, options.replicaWait, options.presence !== undefined);
    const metricWorkgroups = options.presence?.metricWorkgroups ?? [];
    this.workgroups = metricWorkgroups.length
      ? new WorkgroupAvailability(metricWorkgroups, options.metrics, (id) => this.state.statuses?.available(id) ?? false)
      : undefined;
    this.health = new RedisHealth(options.backoff, options.metrics, this.log);
    this.held = new HeldRemovals(options.deleteGuard);
    this.plannerOptions = { replaceBatchSize: options.replaceBatchSize, maxBatchMessages: options.maxBatchMessages, logger: this.log, held: this.held };
    this.maxInFlight = Math.max(1, options.maxInFlightChunks ?? 2);
    this.state = new MirrorState(options.indexedProperties);
    this.verification = new Verification(options.metrics, this.log);
  }

  /** KnownUserTexts (input.ts): the user whose last full replace carried it as text of this digest, unchanged since. */
  idOf(textDigest: number): string | undefined {
    return this.state.idOfText(textDigest);
  }

  /** KnownUserTexts (input.ts): how many users the mirror holds (each may be named by its text). */
  get size(): number {
    return this.state.users.size;
  }

  /** MirroredIds (input.ts): the ids the mirror holds now. */
  ids(): string[] {
    return [...this.state.users.keys()];
  }

  /** MirroredIds (input.ts): `listener` is told after each commit that added or removed users, or ended a full replace. */
  onIdsChanged(listener: () => void): void {
    this.idsChanged = listener;
  }

  /** `listener` is called when the mirror starts a new epoch: a full replace must come (the pipeline asks the session). */
  onMirrorLost(listener: (reason: MirrorLossReason) => void): void {
    this.mirrorLost = listener;
  }

  status(): MirrorStatus {
    const connection = (this.options.redis as { status?: string }).status;
    const { phase, epoch, seq, users, synced, lastChangeAt } = this;
    const { refused } = this.health;
    const redisUp = (this.health.up || refused !== undefined) && (connection === undefined || connection === 'ready');
    const verifiedAt = this.verification.lastAt;
    return {
      phase,
      epoch,
      seq,
      users,
      synced,
      syncing: phase.type === 'replacing',
      redisUp,
      lastChangeAt,
      lastError: this.health.lastError,
      ...(refused !== undefined ? { refused } : {}),
      ...(verifiedAt !== undefined ? { verifiedAt } : {}),
      removalsHeld: this.held.size,
    };
  }

  /** Read meta (a new epoch if the mirror starts from nothing) and the users; errors with RedisUnavailableError. */
  async load(): Promise<void> {
    this.phase = { type: 'loading' };
    try {
      await this.reload();
    } catch (err) {
      if (err instanceof MirrorFencedError) throw err;
      this.phase = { type: 'redis-down', error: (err as Error)?.message ?? String(err) };
      throw new RedisUnavailableError('load the mirror', err);
    }
    this.health.markUp();
    this.phase = { type: 'ready' };
  }

  /**
   * Applies the rest of `batch`, emitting each commit that wrote change entries. Errors with MirrorMovedError or
   * RedisUnavailableError (retry: memory is reloaded first) and with anything else on a bug.
   */
  write$(batch: WriteBatch): Observable<CommittedBatch> {
    return new Observable<CommittedBatch>((subscriber) => {
      const abort = new AbortController();
      this.activity.during(this.write(batch, (c) => subscriber.next(c), abort.signal)).then(
        () => subscriber.complete(),
        (err: unknown) => subscriber.error(err),
      );
      return () => abort.abort();
    });
  }

  private async write(batch: WriteBatch, emit: (c: CommittedBatch) => void, signal: AbortSignal): Promise<void> {
    if (batch.items.slice(batch.done).some((i) => i.kind === 'reload')) this.stale = true;
    if (this.stale) await this.load();
    const queue: QueueItem[] = [];
    for (const item of batch.items.slice(batch.done)) if (item.kind !== 'reload') queue.push(item);
    await this.takeHeldRequests(queue);
    // Chunks are planned by index into the queue; reload items carry no change: done once the reload above succeeded.
    const skipReloads = () => {
      while (batch.items[batch.done]?.kind === 'reload') batch.done++;
    };
    const completeHead = (n: number) => {
      for (let i = 0; i < n; i++) {
        skipReloads();
        batch.done++;
      }
      skipReloads();
    };
    skipReloads();
    await this.pump(queue, completeHead, emit, signal);
  }

  /**
   * Takes the operator's requests of the batch in Redis (compare and set: a CLI that gave up withdraws its request
   * the same way, and only one of the two succeeds). A request withdrawn, or about a hold that is gone, does nothing.
   */
  private async takeHeldRequests(queue: QueueItem[]): Promise<void> {
    for (const item of queue) {
      if (item.kind !== 'held' || item.taken !== undefined) continue;
      try {
        const reply = await swapHeldRequest(this.options.redis, this.store.keys, item.request.value, takenValue(item.request));
        item.taken = reply.kind === 'ok';
        if (reply.kind === 'other') this.log.info(`the removals request ${item.request.value} was withdrawn or replaced (now "${reply.current}")`);
      } catch (err) {
        this.stale = true;
        this.phase = { type: 'redis-down', error: (err as Error)?.message ?? String(err) };
        throw new RedisUnavailableError('take the held-removals request', err);
      }
    }
  }

  /** Plans and sends chunks, up to maxInFlight at once, until the queue is empty; throws on the first failure. */
  private async pump(queue: QueueItem[], completeHead: (n: number) => void, emit: (c: CommittedBatch) => void, signal: AbortSignal): Promise<void> {
    const inflight: Array<{ chunk: Chunk; reply: Promise<Reply> }> = [];
    const lost: Chunk[] = [];
    let failure: Reply | undefined;
    let planned = 0;
    let replace: MultiChunkPlanner | undefined;
    let seqPlanned = this.seq;
    let ranSince = performance.now();
    let stopped: Promise<void> | undefined;
    for (;;) {
      if (performance.now() - ranSince > YIELD_AFTER_MS) {
        await yieldToEventLoop();
        ranSince = performance.now();
      }
      if (!failure && !signal.aborted && inflight.length < this.maxInFlight) {
        // A full replace still being read: plan once enough of its users arrived (meanwhile, replies are taken).
        const notReady = replace?.notReady?.(inflight.length === 0);
        if (notReady && !inflight.length) {
          await Promise.race([notReady, (stopped ??= aborted(signal))]);
          ranSince = performance.now();
          continue;
        }
        const next = notReady ? undefined : this.planNext(queue, planned, replace, seqPlanned);
        if (next) {
          ({ planned, replace } = next);
          seqPlanned += next.chunk.builder.entries;
          inflight.push({ chunk: next.chunk, reply: this.send(next.chunk) });
          continue;
        }
      }
      const head = inflight.shift();
      if (!head) break;
      const reply = await head.reply;
      if (!(reply instanceof Error) && reply.kind === 'ok') {
        // This chunk's seq check passed, so the chunks before it whose replies were lost did apply.
        for (const c of lost.splice(0)) this.commit(c, { kind: 'ok', seq: c.baseSeq + c.builder.entries, users: NO_WRITE }, completeHead, emit);
        this.commit(head.chunk, reply, completeHead, emit);
        failure = undefined;
        continue;
      }
      failure ??= reply;
      lost.push(head.chunk);
    }
    if (failure) throw this.failed(failure);
  }

  private planNext(queue: QueueItem[], planned: number, replace: MultiChunkPlanner | undefined, baseSeq: number) {
    let p;
    let received: ReceivedUsers | undefined;
    let verifying = replace instanceof ReplacePlanner && replace.reason === VERIFY_REASON;
    if (replace) {
      p = replace.plan();
      if (p.done) replace = undefined;
    } else {
      const item = queue[planned];
      if (!item) return undefined;
      if (isStatusReplace(item)) {
        replace = new StatusReplacePlanner(this.state, item as Extract<QueueItem, { kind: 'delta' }>, this.plannerOptions);
        received = (item as Extract<QueueItem, { kind: 'delta' }>).received;
        planned += 1;
        p = replace.plan();
        if (p.done) replace = undefined;
      } else if (item.kind === 'delta') {
        p = planDeltas(this.state, queue.slice(planned, planned + this.options.maxBatchMessages), this.plannerOptions);
        received = (queue[planned + p.completes - 1] as { received: ReceivedUsers }).received;
        planned += p.completes;
      } else if (item.kind === 'held') {
        const request = new HeldRequestPlanner(this.state, this.held, item, this.plannerOptions);
        if (request.count) this.log.info(`${item.request.action === 'apply' ? 'applying' : 'discarding'} ${request.count} held removals (icwatch removals)`);
        replace = request;
        planned += 1;
        p = replace.plan();
        if (p.done) replace = undefined;
      } else {
        const planner = new ReplacePlanner(this.state, item, this.plannerOptions);
        this.phase = { type: 'replacing', reason: planner.reason };
        verifying = planner.reason === VERIFY_REASON;
        replace = planner;
        planned += 1;
        received = item.received;
        p = replace.plan();
        if (p.done) replace = undefined;
      }
    }
    const meta = [...p.meta];
    if (received) this.metaFrom(received, meta);
    if (p.fullSync === VERIFY_REASON) meta.push('verifiedAt', String(Date.now()));
    const index = p.builder.indexArgs();
    const held = p.builder.heldArgs();
    const catalogue = p.builder.catalogueArgs();
    const chunk: Chunk = {
      ...p,
      meta,
      indexArgs: index.args,
      indexWrites: index.writes,
      heldArgs: held.args,
      heldWrites: held.writes,
      catalogueArgs: catalogue.args,
      catalogueWrites: catalogue.writes,
      epoch: this.epoch,
      baseSeq,
    };
    if (verifying) this.verification.planned(chunk);
    return { chunk, planned, replace };
  }

  /** Meta subscriptionId and icServer come from the messages; written only when they change. */
  private metaFrom(received: ReceivedUsers, meta: string[]): void {
    const values = { subscriptionId: received.subscriptionId, icServer: received.icServer };
    for (const [field, value] of Object.entries(values)) {
      if (typeof value === 'string' && value !== this.metaKnown[field]) {
        meta.push(field, value);
        this.metaKnown[field] = value;
      }
    }
  }

  private async send(chunk: Chunk): Promise<Reply> {
    const end = this.options.metrics.redisApplyDuration.startTimer();
    try {
      const reply = await this.store.applyChunk(chunk, this.options.changeStreamLength);
      if (reply.kind !== 'ok' || reply.users !== NO_WRITE) end();
      return reply;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  private commit(chunk: Chunk, reply: Extract<ApplyReply, { kind: 'ok' }>, completeHead: (n: number) => void, emit: (c: CommittedBatch) => void): void {
    const m = this.options.metrics;
    completeHead(chunk.completes);
    this.seq = reply.seq;
    m.seq.set(reply.seq);
    if (reply.users !== NO_WRITE) {
      this.users = reply.users;
      m.users.set(reply.users);
    }
    this.health.markUp();
    if (reply.unreplicated !== undefined) this.replicas(reply.unreplicated);
    const wall = Date.now();
    observeCommit(m, chunk, { mono: performance.now(), wall });
    this.verification.committed(chunk, wall);
    if (chunk.heldWrites) this.heldCommitted(chunk);
    if (chunk.fullSync) {
      m.fullSyncs.inc({ reason: chunk.fullSync });
      this.synced = true;
      this.phase = { type: 'ready' };
      this.log.info(`full replace applied (reason ${chunk.fullSync})`, { users: this.users, seq: this.seq });
      collectAfterReplace(this.users, this.activity, (collected) => this.reportCollection("the full replace's", collected));
    }
    if (chunk.incompleteReplace) {
      this.phase = { type: 'ready' };
      const { problem, askAgain } = chunk.incompleteReplace;
      this.log.warn(`a full replace was cut short (${problem}): the users it carried are applied, nobody is removed`, { users: this.users, seq: this.seq });
      if (askAgain) this.mirrorLost?.('incomplete-write');
    }
    // A full replace of statuses (every PUT of the subscription brings one) leaves its message's garbage too.
    if (chunk.statusesReplaced)
      collectAfterReplace(chunk.statusesReplaced, this.activity, (collected) => this.reportCollection("the statuses replace's", collected));
    this.presenceCommitted(chunk);
    if (chunk.builder.entries) {
      this.lastChangeAt = wall;
      emit({ fromSeq: chunk.baseSeq + 1, toSeq: reply.seq, receivedAt: chunk.receivedAt });
    }
  }

  /** redis.waitReplicas: counts the writes fewer replicas acknowledged in time, warns when that starts and ends. */
  private replicas(unreplicated: boolean): void {
    if (unreplicated) this.options.metrics.redisUnreplicatedWrites.inc();
    if (unreplicated === !this.replicated) return;
    this.replicated = !unreplicated;
    const wait = this.options.replicaWait;
    if (unreplicated)
      this.log.warn(
        `a write was not acknowledged by ${wait?.replicas} replica(s) within ${wait?.timeoutMs} ms (redis.waitReplicas); going on, counted in icwatch_redis_unreplicated_writes_total`,
      );
    else this.log.info(`writes are acknowledged by ${wait?.replicas} replica(s) again`);
  }

  /** The collection after a big replace (src/util/collect-garbage.ts), or why none ran. */
  private reportCollection(whose: string, collected: Collected | undefined): void {
    if (collected) this.log.debug(`collected ${whose} garbage`, collected);
    else this.log.debug(`no collection after ${whose} commit: the writer stayed busy (or gc is unavailable)`);
  }

  /** Presence's part of a committed chunk: its metrics, and the news that the mirror's ids changed. */
  private presenceCommitted(chunk: Chunk): void {
    const b = chunk.builder;
    const m = this.options.metrics;
    const book = this.state.statuses;
    if (book) {
      if (b.statuses) m.statusChanges.inc(b.statuses);
      if (b.droppedStatuses) {
        m.statusesDropped.inc(b.droppedStatuses);
        this.log.warn(`dropped ${b.droppedStatuses} statuses of users not in the directory (presence.maxPendingStatuses)`);
      }
      if (b.unknownStatusIds) m.unknownStatusIds.inc(b.unknownStatusIds);
      m.presenceUsers.set(book.size);
      this.workgroups?.update();
    }
    if (b.idsChanged || chunk.fullSync) this.idsChanged?.();
  }

  /** The delete guard's part of a committed chunk: the gauge, and the log lines of holds (errors, with the counts). */
  private heldCommitted(chunk: Chunk): void {
    this.options.metrics.removalsHeld.set(this.held.size);
    for (const note of chunk.builder.heldNotes) {
      if (note.level === 'error') this.log.error(note.message, note.fields);
      else this.log.info(note.message, note.fields);
    }
    if (!this.held.size) this.log.info('no removals are held any more');
  }

  /** After a failed or refused chunk: memory is no longer trusted; the error says whether to back off. */
  private failed(failure: Reply): Error {
    this.stale = true;
    if (this.phase.type === 'replacing') this.phase = { type: 'ready' };
    if (failure instanceof Error) {
      // Redis answered, and refused (NOPERM, WRONGTYPE, OOM…): the script may have written part of the chunk; the
      // retry's load sees its marker and starts a new epoch (lua/init.lua).
      const refused = refusedWrite(failure);
      this.phase = { type: 'redis-down', error: refused ?? failure.message };
      return new RedisUnavailableError('applying changes', failure);
    }
    if (failure.kind === 'fenced') {
      // Another replica took the lease over: write nothing more; the leadership steps down (src/ha).
      const err = new MirrorFencedError(this.options.fence, failure.fence);
      this.log.warn(`${err.message}, so this one stops writing`);
      return err;
    }
    if (failure.kind === 'incomplete') {
      this.log.warn('an earlier write of the mirror failed halfway (meta writing = 1); reloading, which starts a new epoch');
      return new MirrorMovedError('an earlier write failed halfway');
    }
    if (failure.kind === 'stale' && failure.epoch === this.epoch && failure.seq < this.seq) {
      // Reloading decides (lua/init.lua): the same comparison, made atomically and only while our fence is current.
      this.log.warn(`mirror meta seq ${failure.seq} is behind the seq ${this.seq} this writer committed in epoch ${this.epoch}; reloading`);
      return new MirrorMovedError(`meta seq went back to ${failure.seq}`);
    }
    if (failure.kind === 'stale') {
      this.log.warn(
        `mirror meta moved under us (epoch ${failure.epoch}, seq ${failure.seq}; expected ${this.epoch}, ${this.seq}): another writer, or a retried write that had applied; reloading`,
      );
      return new MirrorMovedError(`meta moved to epoch ${failure.epoch}, seq ${failure.seq}`);
    }
    this.log.warn('Redis lost the mirror (meta missing); starting a new epoch');
    return new MirrorMovedError('meta missing');
  }

  /**
   * The epoch and seq this writer last committed or loaded (a seq never goes back within an epoch, so Redis behind
   * either lost writes); before its first load, what `options.committed` says.
   */
  position(): Committed | undefined {
    return this.epoch ? { epoch: this.epoch, seq: this.seq } : this.options.committed;
  }

  /** The load started a new epoch (lua/init.lua): say why, and ask ICWS for the full replace that rewrites the mirror. */
  private newEpoch(started: EpochStart, epoch: string, committed: Committed | undefined): void {
    if (started === '') return;
    if (started === 'created' && !this.state.size) return void this.log.info(`new mirror: epoch ${epoch}`);
    const reason: MirrorLossReason = started === 'created' ? 'redis' : started === 'incomplete' ? 'incomplete-write' : 'lost-writes';
    const why = {
      redis: `Redis lost the mirror (new epoch ${epoch}); asking ICWS for a full replace of the ${this.state.size} users`,
      'incomplete-write': `a write of the mirror failed halfway (Redis does not roll back a script that fails after it has written); new epoch ${epoch}, asking ICWS for a full replace`,
      'lost-writes': `Redis lost writes this writer had committed (mirror seq behind ${committed?.seq} in epoch ${committed?.epoch}: a failover to a replica that lagged, or a restart from an older snapshot); new epoch ${epoch}, asking ICWS for a full replace`,
    }[reason];
    if (reason === 'redis') this.log.warn(why);
    else this.log.error(why);
    this.synced = false;
    this.mirrorLost?.(reason);
  }

  /** Read meta (starting a new epoch if it is missing) and the users into memory; fix index entries that disagree. */
  private async reload(): Promise<void> {
    // What this writer committed: Redis behind it in the same epoch lost acknowledged writes (a new writer knows none).
    const committed = this.position();
    const meta = await this.store.initMeta(committed);
    this.newEpoch(meta.started, meta.epoch, committed);
    const loaded = await this.store.load(this.options.indexedProperties);
    if (!loaded.meta.epoch) throw new Error('mirror meta vanished while loading');
    const state = MirrorState.loaded(this.options.indexedProperties, loaded.users, loaded.indexEntries);
    const presence = this.options.presence;
    if (presence) state.statuses = StatusBook.loaded(presence, loaded.statuses?.byUser ?? new Map(), loaded.statuses?.catalogue ?? new Map());
    this.epoch = loaded.meta.epoch;
    this.seq = Number(loaded.meta.seq ?? 0);
    this.users = Number(loaded.meta.users ?? state.size);
    this.metaKnown = { subscriptionId: loaded.meta.subscriptionId, icServer: loaded.meta.icServer };
    if (loaded.meta.verifiedAt) this.verification.lastAt ??= Number(loaded.meta.verifiedAt);
    const repair = new ChunkBuilder();
    state.repairIndexes(repair);
    // Held ids are users of the mirror; one that is not (removed by hand) is let go.
    this.held.loaded(loaded.held);
    for (const id of loaded.held) if (!state.users.has(id)) this.held.release(repair, id);
    const index = repair.indexArgs();
    const held = repair.heldArgs();
    if (index.writes || held.writes) {
      const at = { epoch: this.epoch, seq: this.seq, maxlen: this.options.changeStreamLength, now: Date.now() };
      const reply = await this.store.apply({ ...at, meta: [], indexArgs: index.args, heldArgs: held.args, entryArgs: [] });
      if (reply.kind === 'fenced') throw new MirrorFencedError(this.options.fence, reply.fence);
      if (reply.kind !== 'ok') throw new Error(`index repair refused (${reply.kind}); retrying`);
      if (index.writes) this.log.info(`repaired ${index.writes} index entries`);
      if (held.writes) this.log.info(`let go of ${held.writes} held ids that are not users of the mirror`);
    }
    if (this.held.size) this.log.warn(`${this.held.size} removals are held (icwatch removals --list)`, { held: this.held.size, why: loaded.heldInfo.why });
    this.options.metrics.removalsHeld.set(this.held.size);
    this.state = state;
    if (this.workgroups) {
      // Replayed against the loaded statuses (this.state is the new one by now), then followed change by change.
      this.workgroups.clear();
      for (const [id, props] of loaded.users) this.workgroups.userWorkgroups(id, props.get('workgroups') ?? null);
      state.workgroupsFollower = this.workgroups.userWorkgroups;
      if (state.statuses) state.statuses.availabilityListener = this.workgroups.availabilityChanged;
      this.workgroups.update();
    }
    if (state.statuses) this.options.metrics.presenceUsers.set(state.statuses.size);
    this.options.metrics.seq.set(this.seq);
    this.options.metrics.users.set(this.users);
    this.stale = false;
  }
}
