/** The mirror's public types. */
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { BackoffOptions } from '../util/backoff.js';
import type { Committed, ReplicaWait } from './store.js';
import type { DeleteGuardLimits } from './held.js';
import type { StatusBookOptions } from './statuses.js';

export interface MirrorOptions {
  redis: Redis | Cluster;
  keyPrefix: string;
  indexedProperties: string[];
  changeStreamLength: number;
  replaceBatchSize: number;
  maxBatchMessages: number;
  backoff: BackoffOptions;
  metrics: Metrics;
  logger: Logger;
  /** High availability (src/ha): the leader's fencing token, carried by every write; undefined = unfenced. */
  fence?: number;
  /** Round trips in flight at once (the next is planned while the previous executes). Default 2. */
  maxInFlightChunks?: number;
  /** redis.waitReplicas / waitTimeoutMs: each write waits (WAIT) for that many replicas; none by default. */
  replicaWait?: ReplicaWait;
  /**
   * Where this process's previous writer left the mirror (the term before, src/ha): Redis behind it in the same epoch
   * lost writes. A writer of another process knows nothing of them: it passes none and judges nothing.
   */
  committed?: Committed;
  /** mirror.deleteGuard: mass removals are held (src/mirror/held.ts); absent = no guard. */
  deleteGuard?: DeleteGuardLimits;
  /** Presence (src/mirror/statuses.ts): the users' statuses are mirrored too; absent = presence off. */
  presence?: PresenceOptions;
}

export interface PresenceOptions extends StatusBookOptions {
  /** presence.metricWorkgroups: the workgroups of icwatch_available_agents. */
  metricWorkgroups: readonly string[];
}

export interface CommittedBatch {
  fromSeq: number;
  toSeq: number;
  /** performance.now() of the oldest message in the batch. */
  receivedAt: number;
}

/** What the writer is doing (one at a time). */
export type MirrorPhase =
  /** Reading meta and the users into memory: at start, and after any doubt (a failure, Redis reconnected). */
  | { type: 'loading' }
  /** Memory matches Redis; batches are applied as they come. */
  | { type: 'ready' }
  /** A full replace is being applied over several round trips (meta syncing = 1). */
  | { type: 'replacing'; reason: string }
  /** The last Redis operation failed; the pipeline retries with backoff. */
  | { type: 'redis-down'; error: string };

export interface MirrorStatus {
  phase: MirrorPhase;
  epoch: string;
  seq: number;
  users: number;
  /** A full replace applied since start. */
  synced: boolean;
  syncing: boolean;
  redisUp: boolean;
  lastChangeAt?: number;
  lastError?: string;
  /** Redis answered the last write with an error: "Redis refused the write: NOPERM …" (reachable, not writable). */
  refused?: string;
  /** When the last verification (a full replace asked every subscription.verifyIntervalMs) was applied, ms. */
  verifiedAt?: number;
  /** Users whose removal the delete guard holds (README "Mass deletions are held"). */
  removalsHeld?: number;
}
