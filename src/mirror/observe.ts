/** The metrics of one committed chunk: lag from arrival to commit, changes by op, and the ICWS server's own lag. */
import type { Metrics } from '../metrics/metrics.js';
import type { Chunk } from './planner.js';

export function observeCommit(m: Metrics, chunk: Chunk, committedAt: { mono: number; wall: number }): void {
  // The labelled child once per chunk: observing with labels hashes them for every message.
  const lag = m.lag.labels({ stage: 'redis' });
  for (const t of chunk.receivedAts) lag.observe((committedAt.mono - t) / 1000);
  const b = chunk.builder;
  if (!b.entries) return;
  if (b.upserts) m.changes.inc({ op: 'upsert' }, b.upserts);
  if (b.removes) m.changes.inc({ op: 'remove' }, b.removes);
  if (!chunk.sourceLag) return;
  for (const at of b.modifiedAts) m.sourceLag.observe(Math.max(0, committedAt.wall - at) / 1000);
}
