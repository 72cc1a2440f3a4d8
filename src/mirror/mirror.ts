/**
 * The Redis mirror: applies the ICWS usersMessages, in order, to the layout of PRODUCT.md §5.
 *
 * Messages wait in a bounded queue. One worker plans round trips (chunks) against the users held in memory and
 * keeps up to maxInFlightChunks of them in flight; messages that arrive meanwhile are coalesced into the next
 * chunk, never reordered. Each chunk is one Lua call that checks meta's epoch and seq first, so a chunk planned
 * on top of one that failed, or retried after a lost reply, writes nothing: on any doubt memory is reloaded
 * from Redis and the uncommitted messages are planned again (nothing lost, nothing applied twice).
 *
 * The worker is a plain async loop rather than an RxJS operator chain because natural batching and dropping the
 * queue on overflow both need to look at what is waiting; ordering holds because there is one loop.
 */
import { Subject, type Observable, type Subscription } from 'rxjs';
import type { Logger } from '../log/logger.js';
import { componentLogger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ReceivedUsersMessage } from '../icws/messages.js';
import { mirrorKeys } from './keys.js';
import { MirrorState, ChunkBuilder } from './state.js';
import { MirrorStore, type ApplyReply } from './store.js';
import { planDeltas, ReplacePlanner, type Chunk, type QueueItem, type PlannerOptions } from './planner.js';
import { observeCommit } from './observe.js';
import { RedisHealth } from './redis-health.js';
import type { CommittedBatch, MirrorOptions, MirrorStatus } from './types.js';

export type { MirrorOptions, CommittedBatch, MirrorStatus };

type Reply = ApplyReply | Error;
const NO_WRITE = -1;

export class Mirror {
  /** After each commit that wrote change entries (hot). */
  readonly committed$: Observable<CommittedBatch>;
  /**
   * Settles when the mirror stops: resolves after messages$ completed and the queue was applied, or after drain();
   * rejects with messages$'s error (a fatal ICWS condition) once what was queued before it is applied.
   */
  readonly done: Promise<void>;

  private readonly log: Logger;
  private readonly store: MirrorStore;
  private readonly health: RedisHealth;
  private readonly plannerOptions: PlannerOptions;
  private readonly maxInFlight: number;
  private readonly committed = new Subject<CommittedBatch>();
  private settle!: { resolve: () => void; reject: (err: unknown) => void };
  private state: MirrorState;
  private epoch = '';
  private seq = 0;
  private plannedSeq = 0;
  private users = 0;
  /** Known meta subscriptionId / icServer, so that they are written only when they change. */
  private metaKnown: Record<string, string | undefined> = {};
  private readonly queue: QueueItem[] = [];
  /** Items at the head of the queue already planned into chunks in flight. */
  private planned = 0;
  private replace: ReplacePlanner | undefined;
  private dirty = false;
  private awaitingReplace = false;
  private sourceDone = false;
  private sourceError: unknown;
  private stopped = false;
  private finished = false;
  private readonly abort = new AbortController();
  private subscription: Subscription | undefined;
  private worker: Promise<void> | undefined;
  private wakeup: (() => void) | undefined;
  private synced = false;
  private syncing = false;
  private lastChangeAt: number | undefined;

  constructor(private readonly options: MirrorOptions) {
    this.log = componentLogger(options.logger, 'mirror');
    this.store = new MirrorStore(options.redis, mirrorKeys(options.keyPrefix), options.fence);
    this.health = new RedisHealth(options.backoff, options.metrics, this.log);
    this.plannerOptions = { replaceBatchSize: options.replaceBatchSize, maxBatchMessages: options.maxBatchMessages, logger: this.log };
    this.maxInFlight = Math.max(1, options.maxInFlightChunks ?? 2);
    this.state = new MirrorState(options.indexedProperties);
    this.committed$ = this.committed.asObservable();
    this.done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => {}); // the daemon awaits it; an unobserved rejection must not crash the process
  }

  /** Load meta (a new epoch if the mirror starts from nothing) and the users; retries while Redis is unavailable. */
  async init(): Promise<void> {
    this.options.redis.on('ready', this.onReconnect);
    if (!(await this.retrying('load the mirror', () => this.reload()))) throw new Error('mirror stopped before Redis could be read');
  }

  run(messages$: Observable<ReceivedUsersMessage>): void {
    if (this.worker) throw new Error('Mirror.run() called twice');
    this.subscription = messages$.subscribe({
      next: (m) => this.enqueue(m),
      error: (err) => {
        this.sourceError = err;
        this.sourceDone = true;
        this.wake();
      },
      complete: () => {
        this.sourceDone = true;
        this.wake();
      },
    });
    this.worker = this.work().then(
      () => this.finish(this.sourceError),
      (err) => {
        this.log.error(`mirror stopped on an unexpected error: ${(err as Error).message}`, { err });
        this.finish(err);
      },
    );
  }

  status(): MirrorStatus {
    const connection = (this.options.redis as { status?: string }).status;
    return {
      epoch: this.epoch,
      seq: this.seq,
      users: this.users,
      synced: this.synced,
      syncing: this.syncing,
      redisUp: this.health.up && (connection === undefined || connection === 'ready'),
      lastChangeAt: this.lastChangeAt,
      lastError: this.health.lastError,
    };
  }

  /** Apply what is queued (best effort within timeoutMs), then stop. */
  async drain(timeoutMs: number): Promise<void> {
    this.subscription?.unsubscribe();
    this.sourceDone = true;
    this.wake();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      (this.worker ?? Promise.resolve()).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) this.log.warn(`drain timed out after ${timeoutMs} ms with ${this.queue.length} messages not applied`);
    this.stopped = true;
    this.abort.abort(new Error('mirror drained'));
    this.wake();
    this.finish(this.sourceError);
  }

  /**
   * After a reconnect Redis may have restarted without its data: reload (a new epoch and a rewrite of the known
   * users if meta is gone) without waiting for the next message to find out.
   */
  private readonly onReconnect = (): void => {
    if (!this.epoch || this.stopped) return;
    this.dirty = true;
    this.wake();
  };

  private finish(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.options.redis.off('ready', this.onReconnect);
    this.committed.complete();
    if (err === undefined) this.settle.resolve();
    else this.settle.reject(err);
  }

  private wake(): void {
    const w = this.wakeup;
    this.wakeup = undefined;
    w?.();
  }

  private enqueue(received: ReceivedUsersMessage): void {
    const message = received?.message;
    if (!message || typeof message !== 'object') {
      this.log.warn('ignored a usersMessage that is not an object');
      return;
    }
    const max = this.options.maxPendingMessages;
    if (message.isDelta === false) {
      const reason = this.awaitingReplace ? 'overflow' : received.syncReason ?? 'server';
      this.awaitingReplace = false;
      if (this.queue.length >= max) this.dropUnplanned('a full replace arrived with the queue full; the waiting messages it supersedes were dropped');
      this.queue.push({ kind: 'replace', received, reason });
    } else if (this.awaitingReplace) {
      // After an overflow the deltas have a gap: only the full replace asked for can make the mirror right again.
      return;
    } else if (this.queue.length >= max) {
      this.dropUnplanned(`queue overflow: ${max} messages waiting (redis.maxPendingMessages); dropped them and asked for a full replace`);
      this.awaitingReplace = true;
      this.options.onOverflow?.();
      return;
    } else {
      this.queue.push({ kind: 'delta', received });
    }
    this.options.metrics.pendingMessages.set(this.queue.length);
    this.wake();
  }

  private dropUnplanned(why: string): void {
    this.log.warn(why, { dropped: this.queue.length - this.planned });
    this.queue.length = this.planned;
    this.options.metrics.pendingMessages.set(this.queue.length);
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      if (this.dirty) {
        if (!(await this.retrying('reload the mirror', () => this.reload()))) return;
        continue;
      }
      if (!this.queue.length) {
        if (this.sourceDone) return;
        await new Promise<void>((resolve) => (this.wakeup = resolve));
        continue;
      }
      await this.pump();
    }
  }

  /** Plan and send chunks, keeping up to maxInFlight in flight, until the queue is empty or a chunk fails. */
  private async pump(): Promise<void> {
    const inflight: Array<{ chunk: Chunk; reply: Promise<Reply> }> = [];
    const failed: Chunk[] = [];
    let failure: Reply | undefined;
    for (;;) {
      if (!failure && !this.stopped && inflight.length < this.maxInFlight) {
        const chunk = this.planNext();
        if (chunk) {
          inflight.push({ chunk, reply: this.send(chunk) });
          continue;
        }
      }
      const head = inflight.shift();
      if (!head) break;
      const reply = await head.reply;
      if (!(reply instanceof Error) && reply.kind === 'ok') {
        // This chunk's seq check passed, so the chunks before it whose replies were lost did apply.
        for (const c of failed.splice(0)) this.commit(c, { kind: 'ok', seq: c.baseSeq + c.builder.entries, users: NO_WRITE });
        this.commit(head.chunk, reply);
        failure = undefined;
        continue;
      }
      failure ??= reply;
      failed.push(head.chunk);
    }
    if (failure) await this.recover(failure);
  }

  private planNext(): Chunk | undefined {
    let planned;
    let received: ReceivedUsersMessage | undefined;
    if (this.replace) {
      planned = this.replace.plan();
      if (planned.done) this.replace = undefined;
    } else {
      const item = this.queue[this.planned];
      if (!item) return undefined;
      if (item.kind === 'delta') {
        planned = planDeltas(this.state, this.queue.slice(this.planned, this.planned + this.options.maxBatchMessages), this.plannerOptions);
        received = (this.queue[this.planned + planned.completes - 1] as { received: ReceivedUsersMessage }).received;
        this.planned += planned.completes;
      } else {
        this.replace = new ReplacePlanner(this.state, item, this.plannerOptions);
        this.syncing = true;
        this.planned += 1;
        if (item.kind === 'replace') received = item.received;
        planned = this.replace.plan();
        if (planned.done) this.replace = undefined;
      }
    }
    const meta = [...planned.meta];
    if (received) this.metaFrom(received, meta);
    const index = planned.builder.indexArgs();
    const chunk: Chunk = { ...planned, meta, indexArgs: index.args, indexWrites: index.writes, epoch: this.epoch, baseSeq: this.plannedSeq };
    this.plannedSeq += planned.builder.entries;
    return chunk;
  }

  /** Meta subscriptionId and icServer come from the messages; written only when they change. */
  private metaFrom(received: ReceivedUsersMessage, meta: string[]): void {
    const values = { subscriptionId: received.message.subscriptionId, icServer: received.icServer };
    for (const [field, value] of Object.entries(values)) {
      if (typeof value === 'string' && value !== this.metaKnown[field]) {
        meta.push(field, value);
        this.metaKnown[field] = value;
      }
    }
  }

  private async send(chunk: Chunk): Promise<Reply> {
    const b = chunk.builder;
    if (!b.entries && !chunk.indexWrites && !chunk.meta.length) return { kind: 'ok', seq: chunk.baseSeq, users: NO_WRITE };
    const end = this.options.metrics.redisApplyDuration.startTimer();
    try {
      const reply = await this.store.apply({
        epoch: chunk.epoch,
        seq: chunk.baseSeq,
        maxlen: this.options.changeStreamLength,
        now: Date.now(),
        meta: chunk.meta,
        indexArgs: chunk.indexArgs,
        entryArgs: b.entryArgs,
      });
      end();
      return reply;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  private commit(chunk: Chunk, reply: Extract<ApplyReply, { kind: 'ok' }>): void {
    const m = this.options.metrics;
    const b = chunk.builder;
    this.queue.splice(0, chunk.completes);
    this.planned -= chunk.completes;
    m.pendingMessages.set(this.queue.length);
    this.seq = reply.seq;
    m.seq.set(reply.seq);
    if (reply.users !== NO_WRITE) {
      this.users = reply.users;
      m.users.set(reply.users);
    }
    this.health.markUp();
    const wall = Date.now();
    observeCommit(m, chunk, { mono: performance.now(), wall });
    if (b.entries) {
      this.lastChangeAt = wall;
      this.committed.next({ fromSeq: chunk.baseSeq + 1, toSeq: reply.seq, receivedAt: chunk.receivedAt });
    }
    if (chunk.fullSync) {
      m.fullSyncs.inc({ reason: chunk.fullSync });
      this.synced = true;
      this.syncing = false;
      this.log.info(`full replace applied (reason ${chunk.fullSync})`, { users: this.users, seq: this.seq });
    }
  }

  /** After a failed or refused chunk: forget what was planned, back off on errors, and reload memory from Redis. */
  private async recover(failure: Reply): Promise<void> {
    this.planned = 0;
    this.replace = undefined;
    this.syncing = false;
    this.plannedSeq = this.seq;
    this.dirty = true;
    if (failure instanceof Error) {
      this.health.markDown(failure, 'applying changes');
      await this.health.pause(this.abort.signal);
    } else if (failure.kind === 'fenced') {
      // Another replica took the lease: stop at once, write nothing more; the leadership steps down (src/ha).
      this.log.warn(`write refused: fence ${this.options.fence} is no longer current (meta fence ${failure.fence || 'missing'}); another replica leads the mirror now, so this one stops writing`);
      this.stopped = true;
      this.options.onFenced?.(failure.fence);
    } else if (failure.kind === 'stale') {
      this.log.warn(`mirror meta moved under us (epoch ${failure.epoch}, seq ${failure.seq}; expected ${this.epoch}, ${this.seq}): another writer, or a retried write that had applied; reloading`);
    } else {
      this.log.warn('Redis lost the mirror (meta missing); starting a new epoch');
    }
  }

  /** Read meta (starting a new epoch if it is missing) and the users into memory; fix index entries that disagree. */
  private async reload(): Promise<void> {
    const meta = await this.store.initMeta();
    if (meta.created && this.state.size && this.queue[0]?.kind !== 'restore') {
      // Redis came back empty: rewrite what we know as a full replace under the new epoch (its entries start at 1).
      this.log.warn(`new epoch ${meta.epoch}: rewriting the ${this.state.size} known users`);
      this.queue.unshift({ kind: 'restore', users: this.state.users, receivedAt: performance.now() });
    } else if (meta.created) {
      this.log.info(`new mirror: epoch ${meta.epoch}`);
    }
    const loaded = await this.store.load(this.options.indexedProperties);
    if (!loaded.meta.epoch) throw new Error('mirror meta vanished while loading');
    const state = MirrorState.loaded(this.options.indexedProperties, loaded.users, loaded.indexEntries);
    this.epoch = loaded.meta.epoch;
    this.seq = this.plannedSeq = Number(loaded.meta.seq ?? 0);
    this.users = Number(loaded.meta.users ?? state.size);
    this.metaKnown = { subscriptionId: loaded.meta.subscriptionId, icServer: loaded.meta.icServer };
    const repair = new ChunkBuilder();
    state.repairIndexes(repair);
    const index = repair.indexArgs();
    if (index.writes) {
      const reply = await this.store.apply({ epoch: this.epoch, seq: this.seq, maxlen: this.options.changeStreamLength, now: Date.now(), meta: [], indexArgs: index.args, entryArgs: [] });
      if (reply.kind === 'fenced') {
        this.stopped = true;
        this.options.onFenced?.(reply.fence);
        return;
      }
      if (reply.kind !== 'ok') throw new Error(`index repair refused (${reply.kind}); retrying`);
      this.log.info(`repaired ${index.writes} index entries`);
    }
    this.state = state;
    this.options.metrics.seq.set(this.seq);
    this.options.metrics.users.set(this.users);
    this.dirty = false;
  }

  private retrying(what: string, fn: () => Promise<void>): Promise<boolean> {
    return this.health.retrying(what, fn, this.abort.signal, () => this.stopped);
  }
}
