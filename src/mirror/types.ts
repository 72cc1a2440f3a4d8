/** The mirror's public types (src/mirror/mirror.ts re-exports them with the Mirror class). */
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { BackoffOptions } from '../util/backoff.js';

export interface MirrorOptions {
  redis: Redis | Cluster;
  keyPrefix: string;
  indexedProperties: string[];
  changeStreamLength: number;
  replaceBatchSize: number;
  maxPendingMessages: number;
  maxBatchMessages: number;
  backoff: BackoffOptions;
  metrics: Metrics;
  logger: Logger;
  /** Called when the bounded queue overflowed and was dropped: the caller asks ICWS for a fresh full replace. */
  onOverflow?: () => void;
  /** High availability (src/ha): the leader's fencing token, carried by every write; undefined = unfenced. */
  fence?: number;
  /** A write was refused for its fence (another replica leads now): the mirror has stopped writing. */
  onFenced?: (currentFence: string) => void;
  /** Round trips in flight at once (the next is planned while the previous executes). Default 2. */
  maxInFlightChunks?: number;
}

export interface CommittedBatch {
  fromSeq: number;
  toSeq: number;
  /** performance.now() of the oldest message in the batch. */
  receivedAt: number;
}

export interface MirrorStatus {
  epoch: string;
  seq: number;
  users: number;
  /** A full replace applied since start. */
  synced: boolean;
  syncing: boolean;
  redisUp: boolean;
  lastChangeAt?: number;
  lastError?: string;
}
