/**
 * Which replica writes the mirror (high availability): an explicit state machine over the lease of lease.ts.
 *
 *   standby ──(lease free)──▶ acquiring ──(won)──▶ leader ──(lost, expired, fenced)──▶ stepping-down ──▶ standby
 *                                                     └──────────(stop: last write, release)──────────▶ stopped
 *
 * The leader renews every ha.renewMs; a renew that has not succeeded by the time the lease would expire (measured
 * from when the last good renew was *sent*, which is never later than Redis started its TTL) steps it down at once.
 * That timer is only the fast path: the apply script refuses any write whose fence is not meta's (lease-acquire.lua
 * increments it at each takeover), so a leader that was frozen past its lease cannot land a write on waking.
 * With ha.enabled false the replica leads at once, unfenced, and never steps down (one writer by the operator's word).
 */
import { BehaviorSubject, type Observable } from 'rxjs';
import { componentLogger, type Logger } from '../log/logger.js';
import type { AcquireReply, LeaseStore, RenewReply } from './lease.js';

export type LeadershipState =
  | { type: 'standby'; since: number; leader?: string }
  | { type: 'acquiring'; since: number }
  | { type: 'leader'; since: number; fence?: number }
  | { type: 'stepping-down'; since: number; reason: string }
  | { type: 'stopped'; since: number };

/** One leadership term, as the writer sees it. */
export interface LeaderTerm {
  /** The fence every write of this term carries (undefined with ha.enabled false). */
  readonly fence?: number;
  /** The writer reports a write refused for its fence: the term ends at once. */
  fenced(detail: string): void;
}

/** What runs while this replica leads: the ICWS feed and the mirror writer. */
export interface Writer {
  /** `handover`: the last writes, then log out (shutdown). `deposed`: stop writing at once, then log out. */
  stop(how: 'handover' | 'deposed'): Promise<void>;
}

export interface LeadershipMetrics {
  leader: { set(value: number): void };
  leaderChanges: { inc(): void };
}

export interface LeadershipOptions {
  enabled: boolean;
  /** Required when enabled. */
  lease?: LeaseStore;
  leaseMs: number;
  renewMs: number;
  replicaId: string;
  startWriter(term: LeaderTerm): Promise<Writer>;
  metrics: LeadershipMetrics;
  logger: Logger;
  /**
   * Subscribes to lease releases (a standby then tries at once instead of at its next poll); `released` is called
   * with the id of the replica that let go. Returns the unsubscribe.
   */
  onReleased?(released: (by: string) => void): () => void;
}

interface Term {
  fence?: number;
  /** performance.now() past which the lease may have expired in Redis. */
  leaseUntil: number;
  /** Why the term must end (a refused write, a writer that could not start), once known. */
  trouble?: string;
}

export class Leadership {
  private readonly subject = new BehaviorSubject<LeadershipState>({ type: 'standby', since: Date.now() });
  readonly state$: Observable<LeadershipState> = this.subject.asObservable();
  private readonly log: Logger;
  private loop?: Promise<void>;
  private stopped?: Promise<void>;
  private stopping = false;
  private wakeup?: () => void;
  private writer?: Promise<Writer | undefined>;
  private term?: Term;
  /** Last lease holder logged by a standby, so that it says so once per holder, not once per poll. */
  private lastHolder?: string;
  private lastError?: string;
  private unsubscribeReleased?: () => void;

  constructor(private readonly o: LeadershipOptions) {
    this.log = componentLogger(o.logger, 'ha');
    if (o.enabled && !o.lease) throw new Error('Leadership: ha.enabled needs a lease store');
  }

  get state(): LeadershipState {
    return this.subject.value;
  }

  get isLeader(): boolean {
    return this.state.type === 'leader';
  }

  /** The current term's fence while leading. */
  get fence(): number | undefined {
    return this.isLeader ? this.term?.fence : undefined;
  }

  get replicaId(): string {
    return this.o.replicaId;
  }

  start(): void {
    if (this.loop || this.stopping) return;
    this.unsubscribeReleased = this.o.onReleased?.((by) => {
      // Its own release must not cut short the pause a replica takes after stepping down.
      if (this.state.type === 'standby' && by !== this.o.replicaId) this.wake();
    });
    this.loop = this.o.enabled ? this.run() : Promise.resolve(this.lead(undefined, 0));
  }

  /** Ends leadership for good: the writer's last writes, then the lease is released for a standby to take. */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    this.unsubscribeReleased?.();
    this.wake();
    await this.loop;
    const term = this.term;
    if (term && this.writer) {
      this.set({ type: 'stepping-down', since: Date.now(), reason: 'shutting down' });
      // The last writes may take a while (ICWS logout, a queue to apply): keep the lease meanwhile.
      const keep = term.fence === undefined ? undefined : setInterval(() => void this.o.lease!.renew(term.fence!).catch(() => undefined), this.o.renewMs);
      await this.stopWriter('handover').finally(() => clearInterval(keep));
      if (this.o.enabled && term.fence !== undefined) {
        const released = await this.bounded(this.o.lease!.release(term.fence)).catch((err: unknown) =>
          this.log.warn(`could not release the leader lease: ${(err as Error).message}; a standby takes over once it expires (ha.leaseMs)`),
        );
        if (released) this.log.info('released the leader lease; a standby takes over now');
      }
    }
    this.term = undefined;
    this.o.metrics.leader.set(0);
    this.set({ type: 'stopped', since: Date.now() });
  }

  private async run(): Promise<void> {
    let first = true;
    while (!this.stopping) {
      if (this.term) await this.hold();
      else {
        await this.tryAcquire(first);
        first = false;
      }
    }
  }

  /** One attempt; on a taken lease, waits until the next poll or until the lease would expire, whichever is first. */
  private async tryAcquire(first: boolean): Promise<void> {
    if (first || this.state.type !== 'standby') this.set({ type: 'acquiring', since: Date.now() });
    const sentAt = performance.now();
    let reply: AcquireReply;
    try {
      reply = await this.bounded(this.o.lease!.acquire());
    } catch (err) {
      this.warnOnce(`cannot reach Redis for the leader lease: ${(err as Error).message}; standing by`);
      if (this.state.type !== 'standby') this.set({ type: 'standby', since: Date.now() });
      return this.sleep(this.o.renewMs);
    }
    this.lastError = undefined;
    if (this.stopping) {
      // Won while stopping: give it straight back.
      if (reply.kind === 'acquired') await this.o.lease!.release(reply.fence).catch(() => undefined);
      return;
    }
    if (reply.kind === 'acquired') return this.lead(reply.fence, sentAt);
    if (reply.holder !== this.lastHolder) this.log.info(`standing by: the leader is ${reply.holder}`);
    this.lastHolder = reply.holder;
    const s = this.state;
    if (s.type !== 'standby' || s.leader !== reply.holder) this.set({ type: 'standby', since: Date.now(), leader: reply.holder });
    // Poll at ha.renewMs, but try right after the holder's lease would run out (a crashed leader renews no more).
    // A key without expiry (set by hand) is polled at ha.renewMs too.
    const poll = this.o.renewMs * (0.9 + 0.1 * Math.random());
    await this.sleep(reply.remainingMs > 0 ? Math.min(poll, reply.remainingMs + 5) : poll);
  }

  private lead(fence: number | undefined, sentAt: number): void {
    this.term = { fence, leaseUntil: sentAt + this.o.leaseMs };
    this.lastHolder = undefined;
    this.set({ type: 'leader', since: Date.now(), fence });
    this.o.metrics.leader.set(1);
    this.o.metrics.leaderChanges.inc();
    this.log.info(
      fence === undefined
        ? 'leading the mirror (ha.enabled false: no lease)'
        : `leading the mirror as ${this.o.replicaId} (fence ${fence}; lease ${this.o.leaseMs} ms renewed every ${this.o.renewMs} ms)`,
      { fence },
    );
    const term = this.term;
    const writer = this.o.startWriter({ fence, fenced: (detail) => this.trouble(term, `a write was refused for its fence (${detail})`) });
    this.writer = writer.catch((err: unknown) => {
      this.trouble(term, `the writer could not start: ${(err as Error).message}`);
      return undefined;
    });
  }

  private trouble(term: Term | undefined, why: string): void {
    if (!term || this.term !== term) return;
    term.trouble ??= why;
    this.wake();
  }

  /** While leading: renew every ha.renewMs; step down on a lost lease, an expired one, or a refused write. */
  private async hold(): Promise<void> {
    const term = this.term!;
    await this.sleep(Math.min(this.o.renewMs, term.leaseUntil - performance.now()));
    if (this.stopping) return;
    if (term.trouble) return this.stepDown(term.trouble);
    if (performance.now() >= term.leaseUntil) return this.stepDown(`could not renew the lease within ha.leaseMs (${this.o.leaseMs} ms)`);
    const sentAt = performance.now();
    let reply: RenewReply;
    try {
      reply = await this.bounded(this.o.lease!.renew(term.fence!), Math.min(this.o.renewMs, term.leaseUntil - sentAt));
    } catch (err) {
      this.warnOnce(`could not renew the leader lease: ${(err as Error).message}; retrying until it expires`);
      return;
    }
    if (this.stopping || this.term !== term) return;
    if (reply.kind === 'renewed') {
      this.lastError = undefined;
      term.leaseUntil = sentAt + this.o.leaseMs;
      return;
    }
    await this.stepDown(`the lease was taken over (holder ${reply.holder || 'none'}, fence ${reply.fence || 'none'}; ours ${term.fence})`);
  }

  private async stepDown(reason: string): Promise<void> {
    const term = this.term!;
    this.set({ type: 'stepping-down', since: Date.now(), reason });
    this.o.metrics.leader.set(0);
    this.log.warn(`stepping down: ${reason}; stopping writes and logging out of ICWS`, { fence: term.fence });
    await this.stopWriter('deposed');
    this.term = undefined;
    // Free the lease at once if it is still ours (expired locally, or our writer failed), so a standby need not wait.
    await this.bounded(this.o.lease!.release(term.fence!)).catch(() => false);
    this.set({ type: 'standby', since: Date.now() });
    this.log.info('standing by');
    // Give another replica the first chance.
    await this.sleep(this.o.renewMs);
  }

  private async stopWriter(how: 'handover' | 'deposed'): Promise<void> {
    const writer = await this.writer;
    this.writer = undefined;
    await writer?.stop(how).catch((err: unknown) => this.log.warn(`stopping the writer: ${(err as Error).message}`));
  }

  private set(state: LeadershipState): void {
    this.subject.next(state);
  }

  private warnOnce(message: string): void {
    if (message !== this.lastError) this.log.warn(message);
    else this.log.debug(message);
    this.lastError = message;
  }

  /** A lease call that does not answer within `ms` (default ha.renewMs) counts as failed. */
  private bounded<T>(p: Promise<T>, ms = this.o.renewMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms)} ms`)), Math.max(ms, 1))));
    return Promise.race([p, limit]).finally(() => clearTimeout(timer));
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeup = done;
    });
  }

  private wake(): void {
    const w = this.wakeup;
    this.wakeup = undefined;
    w?.();
  }
}
