/**
 * What runs in one leadership term: a fresh ICWS feed, mirror writer and pipeline (src/pipeline/pipeline.ts), run
 * when this replica wins the lease and thrown away when it stops leading. The new session's subscription starts
 * with a full replace, which converges the mirror the previous leader left without emptying it, so a takeover
 * loses nothing. The pipeline is cold: subscribing it loads the mirror, then logs in to ICWS.
 */
import type { Subscription } from 'rxjs';
import type { UsersFeed } from '../icws/feed.js';
import { componentLogger, type Logger } from '../log/logger.js';
import { MirrorFencedError } from '../mirror/write-errors.js';
import type { FanoutStage, LeaderStagesFactory, MirrorStage } from '../stages/contracts.js';
import type { RunningTerm, TermFence } from './leadership.js';

export interface LeadershipTermOptions {
  build: LeaderStagesFactory;
  fanout: FanoutStage;
  /** Time the handover (shutdown) may still spend applying what is queued, asked when it begins. */
  drainTimeoutMs(): number;
  /** A condition retrying cannot fix (410 Gone, a refused subscription, a mirror that died): the daemon exits. */
  onFatal(err: unknown, context: string): void;
  logger: Logger;
}

export class LeadershipTerm implements RunningTerm {
  readonly feed: UsersFeed;
  readonly mirror: MirrorStage;
  private readonly log: Logger;
  private subscription?: Subscription;
  /** Settles when the pipeline has ended (completed or errored). */
  private readonly ended: Promise<void>;
  /** Set once the term is ending: the pipeline ending then is expected, not fatal. */
  private ending = false;

  constructor(
    private readonly term: TermFence,
    private readonly options: LeadershipTermOptions,
  ) {
    this.log = componentLogger(options.logger, 'ha');
    const { feed, mirror, committed$ } = options.build({ fence: term.fence });
    this.feed = feed;
    this.mirror = mirror;
    let ended!: () => void;
    this.ended = new Promise<void>((resolve) => (ended = resolve));
    this.subscription = committed$.subscribe({
      next: (batch) => options.fanout.notifyCommitted(batch),
      error: (err: unknown) => {
        ended();
        this.failed(err);
      },
      complete: () => {
        ended();
        if (!this.ending) options.onFatal(new Error('the ICWS feed ended without being stopped'), 'the mirror stopped');
      },
    });
  }

  private failed(err: unknown): void {
    if (err instanceof MirrorFencedError) {
      // Another replica took over: this term is over; the leadership steps down (never a reason to exit).
      this.ending = true;
      this.term.fenced(`ours ${this.term.fence}, meta's ${err.currentFence || 'missing'}`);
      return;
    }
    // What came before a fatal feed error is written first, then: exit 78 (410 Gone, bad subscription); even while ending.
    const icws = (err as Error)?.name?.startsWith('Icws');
    if (this.ending && !icws) return;
    this.options.onFatal(err, icws ? 'fatal ICWS error' : 'the mirror stopped');
  }

  async stop(how: 'handover' | 'deposed'): Promise<void> {
    this.ending = true;
    if (how === 'deposed') {
      // Stop writing first (anything still in flight is refused by the fence), then end the ICWS session.
      this.abandon();
      await this.feed.stop();
    } else {
      // The last writes: items$ completes, the pipeline writes what the feed delivered, then completes.
      await this.feed.stop();
      const timeoutMs = this.options.drainTimeoutMs();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.ended.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) this.log.warn(`drain timed out after ${timeoutMs} ms; the messages still pending were not applied`);
      this.abandon();
    }
    this.log.info(how === 'deposed' ? 'writer stopped (deposed)' : 'writer stopped after its last writes', { fence: this.term.fence });
  }

  /** Lets go of the pipeline at once: no further write is started. */
  abandon(): void {
    this.ending = true;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }
}
