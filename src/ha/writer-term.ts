/**
 * The writer of one leadership term: a fresh ICWS feed and mirror, built when this replica wins the lease and
 * thrown away when it stops leading. The new session's subscription starts with a full replace, which converges
 * the mirror the previous leader left without emptying it (src/mirror/planner.ts), so a takeover loses nothing.
 *
 * start() returns at once (loading the mirror may wait for Redis): the leadership must keep renewing meanwhile.
 */
import { Subscription } from 'rxjs';
import type { UsersFeed } from '../icws/feed.js';
import { componentLogger, type Logger } from '../log/logger.js';
import type { FanoutStage, MirrorStage, WriterFactory } from '../daemon/stages.js';
import type { LeaderTerm, Writer } from './leadership.js';

export interface WriterTermOptions {
  build: WriterFactory;
  fanout: FanoutStage;
  /** Time the handover (shutdown) may still spend applying what is queued, asked when it begins. */
  drainTimeoutMs(): number;
  /** A condition retrying cannot fix (410 Gone, a refused subscription, a mirror that died): the daemon exits. */
  onFatal(err: unknown, context: string): void;
  logger: Logger;
}

export class WriterTerm implements Writer {
  readonly feed: UsersFeed;
  readonly mirror: MirrorStage;
  private readonly wiring = new Subscription();
  private readonly log: Logger;
  /** Set once the term is ending: the feed and mirror ending then is expected, not fatal. */
  private ending = false;
  private started?: Promise<void>;

  constructor(
    private readonly term: LeaderTerm,
    private readonly o: WriterTermOptions,
  ) {
    this.log = componentLogger(o.logger, 'ha');
    const built = o.build({
      fence: term.fence,
      onFenced: (current) => {
        this.ending = true;
        term.fenced(`ours ${term.fence}, meta's ${current || 'missing'}`);
      },
    });
    this.feed = built.feed;
    this.mirror = built.mirror;
  }

  start(): this {
    this.started = this.run().catch((err: unknown) => {
      if (!this.ending) this.o.onFatal(err, 'the mirror writer could not start');
    });
    return this;
  }

  private async run(): Promise<void> {
    const { feed, mirror, o } = this;
    await mirror.init();
    if (this.ending) return;
    this.wiring.add(mirror.committed$.subscribe({ next: (batch) => o.fanout.notifyCommitted(batch), error: (err: unknown) => this.fatal(err, 'the mirror stopped') }));
    // The mirror applies what came before a fatal feed error, then settles with it: exit 78 (410 Gone, bad subscription).
    mirror.run(feed.messages$);
    mirror.done.then(
      () => this.fatal(new Error('the ICWS feed ended without being stopped'), 'the mirror stopped'),
      (err: unknown) => this.fatal(err, (err as Error)?.name?.startsWith('Icws') ? 'fatal ICWS error' : 'the mirror stopped'),
    );
    feed.start();
  }

  private fatal(err: unknown, context: string): void {
    // A fatal ICWS condition stays fatal while ending (the last messages before a 410 are applied, then exit 78).
    if (this.ending && !(err as Error)?.name?.startsWith('Icws')) return;
    this.o.onFatal(err, context);
  }

  async stop(how: 'handover' | 'deposed'): Promise<void> {
    this.ending = true;
    if (how === 'deposed') {
      // Stop writing first (anything still in flight is refused by the fence), then end the ICWS session.
      await this.mirror.drain(0);
      await this.feed.stop();
    } else {
      // The last writes: the feed's messages$ completes, and the mirror applies what is queued before it stops.
      await this.feed.stop();
      await this.mirror.drain(this.o.drainTimeoutMs());
    }
    await this.started;
    this.wiring.unsubscribe();
    this.log.info(how === 'deposed' ? 'writer stopped (deposed)' : 'writer stopped after its last writes', { fence: this.term.fence });
  }
}
