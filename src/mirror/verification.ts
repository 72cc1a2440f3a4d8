/**
 * Verified, not assumed (README "Integrity"): every subscription.verifyIntervalMs the leader asks ICWS for a full
 * replace (reason "verify"); whatever that replace had to change is a difference the deltas had missed (a lost
 * message, a write Redis lost unnoticed). Counted in icwatch_verify_differences_total (0 on a healthy site), named in a
 * warning (up to VERIFY_LOGGED_IDS ids), and the time of the last verification shown on the status page.
 */
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ChunkBuilder } from './chunk-builder.js';
import type { Chunk } from './planner.js';

/** Ids a verification with differences names in its warning, at most. */
export const VERIFY_LOGGED_IDS = 20;

export class Verification {
  /** Chunks of a verifying full replace (planned, not yet committed). */
  private readonly chunks = new WeakSet<Chunk>();
  private differences = 0;
  private ids: string[] = [];
  /** When the last verification was applied (ms since the epoch). */
  lastAt: number | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** A chunk of a full replace asked to verify the mirror. */
  planned(chunk: Chunk): void {
    this.chunks.add(chunk);
  }

  /**
   * A chunk committed. The tally outlives a retried replace (its committed chunks are not planned again, so nothing is
   * counted twice) and is reported by the replace's last chunk.
   */
  committed(chunk: Chunk, at: number): void {
    if (!this.chunks.has(chunk)) return;
    this.differences += chunk.builder.entries;
    if (this.ids.length < VERIFY_LOGGED_IDS) this.ids.push(...entryIds(chunk.builder, VERIFY_LOGGED_IDS - this.ids.length));
    if (!chunk.fullSync) return;
    const { differences, ids } = this;
    this.differences = 0;
    this.ids = [];
    this.lastAt = at;
    this.metrics.verifyDifferences.inc(differences);
    if (differences === 0) return void this.log.info('verification: the mirror equals ICWS');
    this.log.warn(
      `verification: the mirror differed from ICWS in ${differences} change(s), now repaired (messages lost on the way, or writes Redis lost); users: ${ids.join(', ')}${differences > ids.length ? ', …' : ''}`,
      { differences, ids },
    );
  }
}

/** The user ids of a chunk's change entries, in order, at most `limit` (the layout of lua/apply.lua's ARGV tail). */
export function entryIds(b: ChunkBuilder, limit: number): string[] {
  const args = b.entryArgs;
  const ids: string[] = [];
  for (let i = 0; i < args.length && ids.length < limit;) {
    const op = args[i];
    ids.push(args[i + 1]!);
    if (op === 'r') i += 2;
    else if (op === 'P' || op === 'U') i += 4;
    else i += 4 + 2 * Number(args[i + 2]) + Number(args[i + 3]) + 1;
  }
  return ids;
}
