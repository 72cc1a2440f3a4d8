/** The bounds of the process model (docs/architecture.md, "Processes"); not configuration: no operator tunes them. */
import type { BackoffOptions } from '../util/backoff.js';

export interface ClusterLimits {
  /** A question over IPC (state for /readyz, metrics for /metrics) not answered within this fails. */
  ipcRequestTimeoutMs: number;
  /** A worker that died is started again after this backoff. */
  restartBackoff: BackoffOptions;
  /** A worker that has run this long without dying resets the restart backoff. */
  stableAfterMs: number;
  /** A worker that has not listened after this long is a failed start. */
  startTimeoutMs: number;
  /**
   * V8's young generation per worker (--max-semi-space-size, MiB) unless node's options set one. A worker's
   * allocations (frames, reads of the stream) die young and are few at a time; V8's default (16) keeps up to
   * 32 MiB of new space resident in every worker for nothing.
   */
  workerSemiSpaceMiB: number;
}

export const CLUSTER_LIMITS: ClusterLimits = {
  ipcRequestTimeoutMs: 2000,
  restartBackoff: { initialMs: 250, maxMs: 15_000, multiplier: 2, jitter: 0.2 },
  stableAfterMs: 30_000,
  startTimeoutMs: 60_000,
  workerSemiSpaceMiB: 2,
};
