/**
 * The stages' contracts, as the processes that wire them see them: the ICWS feed, the Redis mirror, the pipeline
 * between them (src/pipeline/pipeline.ts) and the WebSocket fan-out. Below src/ha, src/daemon and src/cluster, which
 * all speak of stages: src/daemon/build-stages.ts constructs the real ones from Config; tests may hand in their own.
 */
import type { Server } from 'node:http';
import type { Observable } from 'rxjs';
import type { Config } from '../config/defaults.js';
import type { UsersFeed } from '../icws/feed.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CommittedBatch, MirrorStatus } from '../mirror/types.js';
import type { RedisClient } from '../redis/client.js';

export type { CommittedBatch, MirrorStatus };

export interface MirrorStage {
  status(): MirrorStatus;
}

export interface FanoutStage {
  attach(server: Server): void;
  start(): Promise<void> | void;
  /** It follows the mirror from Redis on its own (worker processes): the writer may start before it has. */
  readonly followsOnItsOwn?: boolean;
  notifyCommitted(batch: CommittedBatch): void;
  readonly clientCount: number;
  close(): Promise<void>;
}

/** The ICWS feed, the mirror writer and the pipeline between them, for one leadership term (src/ha/leadership-term.ts). */
export interface LeaderStages {
  feed: UsersFeed;
  mirror: MirrorStage;
  /**
   * The message path (cold): subscribing starts it; each commit that wrote change entries. Completes after the feed
   * stopped and what it delivered is written; errors on a fatal ICWS condition, or with MirrorFencedError once a
   * write was refused for its fence (another replica leads now).
   */
  committed$: Observable<CommittedBatch>;
}

export interface LeaderContext {
  /** The leader's fencing token, carried by every write (undefined with ha.enabled false). */
  fence?: number;
}

/** Builds a fresh feed, mirror writer and pipeline each time this replica becomes the leader. */
export type LeaderStagesFactory = (context: LeaderContext) => LeaderStages;

export interface Stages {
  /** What runs while this replica leads; absent for role fanout. */
  leader?: LeaderStagesFactory;
  fanout: FanoutStage;
}

export interface StageContext {
  config: Config;
  redis: RedisClient;
  /** A new connection for SUBSCRIBE (a subscribed connection cannot run other commands). */
  createSubscriber(): RedisClient;
  metrics: Metrics;
  logger: Logger;
  version: string;
}

export type StageFactory = (context: StageContext) => Promise<Stages>;
