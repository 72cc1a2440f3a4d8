/**
 * Follows the mirror's change stream from Redis (so that any number of processes can serve clients of one mirror):
 * wakes on `{P}:notify`, on a local commit, or on a timer (a missed notification or a restarted Redis is noticed
 * anyway), reads the new entries in bounded pages and hands each page on in order. A new epoch, a seq that went
 * backwards or a gap (entries trimmed before they were read) is reported as a reset. Clients catching up wait on
 * `advanced()` for it to move, rather than polling. While no client is live it reads only the head and moves its
 * position: a full replace of a big directory is then not read back and decoded for nobody.
 */
import type { Logger } from '../log/logger.js';
import type { ResetReason } from '../protocol/frames.js';
import { Backoff } from '../util/backoff.js';
import { ChangePage } from './frames.js';
import type { MirrorHead, MirrorReader, RedisClient } from '../mirror/reader.js';

export interface FollowerOptions {
  reader: MirrorReader;
  createSubscriber: () => RedisClient;
  /** Stream entries per XRANGE page. */
  pageEntries: number;
  /** Fallback poll of the mirror's head when no notification comes. */
  pollIntervalMs: number;
  logger: Logger;
  /** A returned promise holds the next read back until it settles (the dispatcher has too much waiting). */
  onPage: (page: ChangePage) => void | Promise<void>;
  onReset: (reason: ResetReason, head: MirrorHead) => void;
  /** Whether any client receives pages now (default: always). */
  hasReceivers?: () => boolean;
  /** Entries fromSeq..toSeq went by while no client was live: they were not read. */
  onSkipped?: (fromSeq: number, toSeq: number) => void;
}

export class ChangeFollower {
  epoch: string | null = null;
  /** The last seq handed on. */
  headSeq = 0;
  private pulling = false;
  private again = false;
  private closed = false;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private subscriber: RedisClient | undefined;
  private readonly retry = new Backoff({ initialMs: 100, maxMs: 5000, multiplier: 2, jitter: 0.5 });
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly options: FollowerOptions) {}

  async start(): Promise<void> {
    const head = await this.options.reader.head();
    this.epoch = head.epoch;
    this.headSeq = head.seq;
    const sub = (this.subscriber = this.options.createSubscriber());
    sub.on('error', () => {}); // the connection's owner logs outages; the poll timer covers the gap
    await this.options.reader.followNotify(sub, (seq) => {
      if (!(seq <= this.headSeq)) this.wake();
    });
    this.started = true;
    this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs);
    this.timer.unref();
    this.wake(); // anything committed between reading the head and subscribing
  }

  /** Read whatever is new; calls made while a read is under way fold into one more read after it. */
  wake(): void {
    if (this.closed || !this.started) return;
    if (this.pulling) {
      this.again = true;
      return;
    }
    void this.pull();
  }

  /**
   * Settles when the follower has moved (a page read, a new epoch, a skip), or rejects with the signal's reason
   * when it is aborted first.
   */
  advanced(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const moved = () => {
        signal.removeEventListener('abort', aborted);
        resolve();
      };
      const aborted = () => {
        this.waiting.delete(moved);
        reject(signal.reason);
      };
      this.waiting.add(moved);
      signal.addEventListener('abort', aborted, { once: true });
    });
  }

  private moved(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const resolve of waiting) resolve();
  }

  private async pull(): Promise<void> {
    this.pulling = true;
    try {
      do {
        this.again = false;
        await this.pullPage();
      } while (this.again && !this.closed);
      this.retry.reset();
    } catch (err) {
      const delay = this.retry.next();
      this.options.logger.warn('reading the change stream failed; retrying', { error: (err as Error).message, retryInMs: delay });
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.wake(), delay);
      this.retryTimer.unref();
    } finally {
      this.pulling = false;
    }
  }

  private async pullPage(): Promise<void> {
    if (this.options.hasReceivers && !this.options.hasReceivers()) return this.skipPage();
    const { head, page } = await this.options.reader.headAndChanges(this.headSeq, this.options.pageEntries, (err, id) =>
      this.options.logger.error('skipping a change entry that cannot be decoded', { entry: id, error: err.message }),
    );
    if (this.closed || this.restarted(head)) return;
    if (page.kind === 'empty') {
      // Entries up to head.seq exist but the stream no longer holds the next one: trimmed before it was read.
      if (head.seq > this.headSeq) this.skipTo('trimmed', head);
      return;
    }
    if (page.firstSeq !== this.headSeq + 1) {
      this.skipTo('trimmed', head);
      return;
    }
    this.headSeq = page.lastSeq;
    this.moved();
    if (page.read === this.options.pageEntries) this.again = true;
    if (page.entries.length) await this.options.onPage(new ChangePage(page.entries));
  }

  /** No client is live: move to the head without reading entries (unless a client went live meanwhile). */
  private async skipPage(): Promise<void> {
    const head = await this.options.reader.head();
    if (this.closed) return;
    // A client that went live while the head was read stands at headSeq and needs the pages after it.
    if (this.options.hasReceivers!()) {
      this.again = true;
      return;
    }
    if (this.restarted(head) || head.seq === this.headSeq) return;
    const from = this.headSeq + 1;
    this.headSeq = head.seq;
    this.options.onSkipped?.(from, head.seq);
    this.moved();
  }

  /** A new epoch, or a seq gone backwards: reported as a reset. */
  private restarted(head: MirrorHead): boolean {
    if (head.epoch === this.epoch && head.seq >= this.headSeq) return false;
    // A fan-out started before the mirror existed sees its first epoch here: that is no restart.
    const what = this.epoch === null ? 'following the mirror' : 'the mirror restarted: clients get a new snapshot';
    this.options.logger.info(what, { epoch: head.epoch, seq: head.seq });
    this.epoch = head.epoch;
    this.headSeq = head.seq;
    this.options.onReset('epoch', head);
    this.moved();
    return true;
  }

  private skipTo(reason: 'trimmed', head: MirrorHead): void {
    this.options.logger.warn('the change stream was trimmed past the fan-out: clients get a new snapshot', { from: this.headSeq + 1, seq: head.seq });
    this.headSeq = head.seq;
    this.options.onReset(reason, head);
    this.moved();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }
}
