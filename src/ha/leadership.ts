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

/** One leadership term's fence, as the mirror writer of the term sees it. */
export interface TermFence {
  /** The fence every write of this term carries (undefined with ha.enabled false). */
  readonly fence?: number;
  /** The writer reports a write refused for its fence: the term ends at once. */
  fenced(detail: string): void;
}

/** What runs while this replica leads (a LeadershipTerm: the ICWS feed and the mirror writer). */
export interface RunningTerm {
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
  /** Starts what runs while this replica leads, once per term. */
  startTerm(fence: TermFence): Promise<RunningTerm>;
  metrics: LeadershipMetrics;
  logger: Logger;
  /**
   * Subscribes to lease releases (a standby then tries at once instead of at its next poll); `released` is called
   * with the id of the replica that let go. Returns the unsubscribe.
   */
  onReleased?(released: (by: string) => void): () => void;
}

/** A term this replica holds the lease for. */
interface Term {
  fence?: number;
  /** performance.now() past which the lease may have expired in Redis. */
  leaseUntil: number;
  /** Why the term must end (a refused write, a term that could not start), once known. */
  trouble?: string;
  /** What runs in the term, once started (undefined: it could not start, or it has been stopped). */
  running: Promise<RunningTerm | undefined>;
}

/**
 * Whether this replica holds a term, with the term's data. `leading` lasts from winning the lease until what ran in
 * the term has stopped (so through the reported `stepping-down`); the reported LeadershipState follows it.
 */
type Holding = { type: 'following' } | { type: 'leading'; term: Term };

export class Leadership {
  private readonly subject = new BehaviorSubject<LeadershipState>({ type: 'standby', since: Date.now() });
  readonly state$: Observable<LeadershipState> = this.subject.asObservable();
  private readonly log: Logger;
  private loop?: Promise<void>;
  /** Set by stop(): the loop ends, the term's last writes go in, the lease is released. */
  private shutdown?: Promise<void>;
  private wakeup?: () => void;
  private holding: Holding = { type: 'following' };
  /** Last lease holder logged by a standby, so that it says so once per holder, not once per poll. */
  private lastHolder?: string;
  private lastError?: string;
  private unsubscribeReleased?: () => void;

  constructor(private readonly options: LeadershipOptions) {
    this.log = componentLogger(options.logger, 'ha');
    if (options.enabled && !options.lease) throw new Error('Leadership: ha.enabled needs a lease store');
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

  private get term(): Term | undefined {
    return this.holding.type === 'leading' ? this.holding.term : undefined;
  }

  private get stopping(): boolean {
    return this.shutdown !== undefined;
  }

  get replicaId(): string {
    return this.options.replicaId;
  }

  start(): void {
    if (this.loop || this.stopping) return;
    this.unsubscribeReleased = this.options.onReleased?.((by) => {
      // Its own release must not cut short the pause a replica takes after stepping down.
      if (this.state.type === 'standby' && by !== this.options.replicaId) this.wake();
    });
    this.loop = this.options.enabled ? this.run() : Promise.resolve(this.lead(undefined, 0));
  }

  /** Ends leadership for good: the writer's last writes, then the lease is released for a standby to take. */
  stop(): Promise<void> {
    this.shutdown ??= this.shutDown();
    return this.shutdown;
  }

  private async shutDown(): Promise<void> {
    // Called only by stop(), which sets `shutdown` (so `stopping`) before the loop can resume: wake() resolves later.
    this.unsubscribeReleased?.();
    this.wake();
    await this.loop;
    const term = this.term;
    if (term) {
      this.set({ type: 'stepping-down', since: Date.now(), reason: 'shutting down' });
      // The last writes may take a while (ICWS logout, a queue to apply): keep the lease meanwhile.
      const keep =
        term.fence === undefined ? undefined : setInterval(() => void this.options.lease!.renew(term.fence!).catch(() => undefined), this.options.renewMs);
      await this.stopTerm(term, 'handover').finally(() => clearInterval(keep));
      if (this.options.enabled && term.fence !== undefined) {
        const released = await this.bounded(this.options.lease!.release(term.fence)).catch((err: unknown) =>
          this.log.warn(`could not release the leader lease: ${(err as Error).message}; a standby takes over once it expires (ha.leaseMs)`),
        );
        if (released) this.log.info('released the leader lease; a standby takes over now');
      }
    }
    this.holding = { type: 'following' };
    this.options.metrics.leader.set(0);
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
      reply = await this.bounded(this.options.lease!.acquire());
    } catch (err) {
      this.warnOnce(`cannot reach Redis for the leader lease: ${(err as Error).message}; standing by`);
      if (this.state.type !== 'standby') this.set({ type: 'standby', since: Date.now() });
      return this.sleep(this.options.renewMs);
    }
    this.lastError = undefined;
    if (this.stopping) {
      // Won while stopping: give it straight back.
      if (reply.kind === 'acquired') await this.options.lease!.release(reply.fence).catch(() => undefined);
      return;
    }
    if (reply.kind === 'acquired') return this.lead(reply.fence, sentAt);
    if (reply.holder !== this.lastHolder) this.log.info(`standing by: the leader is ${reply.holder}`);
    this.lastHolder = reply.holder;
    const s = this.state;
    if (s.type !== 'standby' || s.leader !== reply.holder) this.set({ type: 'standby', since: Date.now(), leader: reply.holder });
    // Poll at ha.renewMs, but try right after the holder's lease would run out (a crashed leader renews no more).
    // A key without expiry (set by hand) is polled at ha.renewMs too.
    const poll = this.options.renewMs * (0.9 + 0.1 * Math.random());
    await this.sleep(reply.remainingMs > 0 ? Math.min(poll, reply.remainingMs + 5) : poll);
  }

  private lead(fence: number | undefined, sentAt: number): void {
    const term: Term = { fence, leaseUntil: sentAt + this.options.leaseMs, running: Promise.resolve(undefined) };
    this.holding = { type: 'leading', term };
    this.lastHolder = undefined;
    this.set({ type: 'leader', since: Date.now(), fence });
    this.options.metrics.leader.set(1);
    this.options.metrics.leaderChanges.inc();
    this.log.info(
      fence === undefined
        ? 'leading the mirror (ha.enabled false: no lease)'
        : `leading the mirror as ${this.options.replicaId} (fence ${fence}; lease ${this.options.leaseMs} ms renewed every ${this.options.renewMs} ms)`,
      { fence },
    );
    const running = this.options.startTerm({ fence, fenced: (detail) => this.trouble(term, `a write was refused for its fence (${detail})`) });
    term.running = running.catch((err: unknown) => {
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
    await this.sleep(Math.min(this.options.renewMs, term.leaseUntil - performance.now()));
    if (this.stopping) return;
    if (term.trouble) return this.stepDown(term.trouble);
    if (performance.now() >= term.leaseUntil) return this.stepDown(`could not renew the lease within ha.leaseMs (${this.options.leaseMs} ms)`);
    const sentAt = performance.now();
    let reply: RenewReply;
    try {
      reply = await this.bounded(this.options.lease!.renew(term.fence!), Math.min(this.options.renewMs, term.leaseUntil - sentAt));
    } catch (err) {
      this.warnOnce(`could not renew the leader lease: ${(err as Error).message}; retrying until it expires`);
      return;
    }
    if (this.stopping || this.term !== term) return;
    if (reply.kind === 'renewed') {
      this.lastError = undefined;
      term.leaseUntil = sentAt + this.options.leaseMs;
      return;
    }
    await this.stepDown(`the lease was taken over (holder ${reply.holder || 'none'}, fence ${reply.fence || 'none'}; ours ${term.fence})`);
  }

  private async stepDown(reason: string): Promise<void> {
    const term = this.term!;
    this.set({ type: 'stepping-down', since: Date.now(), reason });
    this.options.metrics.leader.set(0);
    this.log.warn(`stepping down: ${reason}; stopping writes and logging out of ICWS`, { fence: term.fence });
    await this.stopTerm(term, 'deposed');
    this.holding = { type: 'following' };
    // Free the lease at once if it is still ours (expired locally, or our writer failed), so a standby need not wait.
    await this.bounded(this.options.lease!.release(term.fence!)).catch(() => false);
    this.set({ type: 'standby', since: Date.now() });
    this.log.info('standing by');
    // Give another replica the first chance.
    await this.sleep(this.options.renewMs);
  }

  private async stopTerm(term: Term, how: 'handover' | 'deposed'): Promise<void> {
    const running = await term.running;
    term.running = Promise.resolve(undefined);
    await running?.stop(how).catch((err: unknown) => this.log.warn(`stopping the writer: ${(err as Error).message}`));
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
  private bounded<T>(p: Promise<T>, ms = this.options.renewMs): Promise<T> {
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
