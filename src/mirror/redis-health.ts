/**
 * Whether Redis answers the mirror, from the mirror's own operations: the last error, and the retry loop with
 * backoff that every Redis step of the mirror goes through while Redis is away.
 */
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { Backoff, sleep, type BackoffOptions } from '../util/backoff.js';
import { refusedWrite } from './write-errors.js';

export class RedisHealth {
  up = false;
  lastError: string | undefined;
  /** Redis answered the last operation with an error ("Redis refused the write: NOPERM …"): it is reachable, not writable. */
  refused: string | undefined;
  private readonly backoff: Backoff;

  constructor(
    options: BackoffOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.backoff = new Backoff(options);
  }

  markUp(): void {
    if (!this.up && this.lastError) this.log.info(this.refused ? 'Redis accepts writes again' : 'Redis available again');
    this.up = true;
    this.lastError = undefined;
    this.refused = undefined;
    this.backoff.reset();
  }

  markDown(err: unknown, what: string): void {
    this.metrics.redisErrors.inc();
    this.up = false;
    this.refused = refusedWrite(err);
    this.lastError = this.refused ?? `${what}: ${(err as Error)?.message ?? String(err)}`;
    const problem = this.refused ? `Redis refused ${what}` : `Redis unavailable while ${what}`;
    this.log.warn(`${problem}; retrying with backoff`, { error: this.lastError, attempt: this.backoff.attempts + 1 });
  }

  /** The next backoff delay (exponential with jitter, capped by redis.backoff.maxMs). */
  nextDelayMs(): number {
    return this.backoff.next();
  }

  /** Waits the next backoff delay; false if `signal` aborted meanwhile. */
  pause(signal: AbortSignal): Promise<boolean> {
    return sleep(this.backoff.next(), signal).then(
      () => true,
      () => false,
    );
  }

  /** Runs `fn` until it succeeds, backing off between attempts; false if `signal` aborted or `stopped()` says so. */
  async retrying(what: string, fn: () => Promise<void>, signal: AbortSignal, stopped: () => boolean): Promise<boolean> {
    for (;;) {
      if (stopped()) return false;
      try {
        await fn();
        this.markUp();
        return true;
      } catch (err) {
        this.markDown(err, what);
        if (!(await this.pause(signal))) return false;
      }
    }
  }
}
