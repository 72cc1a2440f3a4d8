/**
 * icwatch_lag_seconds{stage="websocket"}: from a message's arrival from ICWS to the hand-off of its changes to the
 * WebSocket clients (README, "Metrics"). In the process that also runs the mirror, the arrival time of each
 * committed batch is known exactly (notifyCommitted); a fan-out alone has only each entry's `at` (the commit time,
 * wall clock) to go by.
 */
import { performance } from 'node:perf_hooks';
import type { Metrics } from '../metrics/metrics.js';
import type { ChangePage } from './frames.js';
import type { CommittedBatch } from '../mirror/types.js';

export type { CommittedBatch };

export class WebsocketLag {
  private committed: CommittedBatch[] = [];

  constructor(
    private readonly metrics: Metrics,
    /** Committed batches remembered until their changes are handed off. */
    private readonly maxTrackedBatches: number,
  ) {}

  committedLocally(batch: CommittedBatch): void {
    this.committed.push({ fromSeq: batch.fromSeq, toSeq: batch.toSeq, receivedAt: batch.receivedAt });
    if (this.committed.length > this.maxTrackedBatches) this.committed.shift();
  }

  /** The changes of `page` have been handed to every client that receives them. */
  handedOff(page: ChangePage): void {
    const covered = this.batchesHandedOff(page.fromSeq, page.toSeq);
    const lag = this.metrics.lag.labels({ stage: 'websocket' });
    const now = Date.now();
    for (const e of page.entries) if (e.seq > covered && Number.isFinite(e.at)) lag.observe(Math.max(0, now - e.at) / 1000);
  }

  /** The changes fromSeq..toSeq went by with no client live: done with as of now. */
  skipped(fromSeq: number, toSeq: number): void {
    this.batchesHandedOff(fromSeq, toSeq);
  }

  /** Observes the committed batches that end by toSeq; returns the last seq they cover. */
  private batchesHandedOff(fromSeq: number, toSeq: number): number {
    const lag = this.metrics.lag.labels({ stage: 'websocket' });
    let covered = fromSeq - 1;
    while (this.committed.length && this.committed[0]!.fromSeq <= toSeq) {
      const b = this.committed[0]!;
      if (b.toSeq > toSeq) break;
      this.committed.shift();
      // A batch that ended before this range was never handed on here (a reset skipped it): no hand-off to time.
      if (b.toSeq >= fromSeq) lag.observe((performance.now() - b.receivedAt) / 1000);
      covered = Math.max(covered, b.toSeq);
    }
    return covered;
  }
}
