/**
 * Whether Redis answers the mirror, from the mirror's own operations: the last error, and the backoff between
 * the retries of its Redis steps while Redis is away (the pipeline retries: src/pipeline/pipeline.ts).
 */
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { Backoff, type BackoffOptions } from '../util/backoff.js';
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
}
