/**
 * The stages the daemon wires together, as the daemon sees them: the ICWS feed, the Redis mirror, the pipeline
 * between them (src/pipeline/pipeline.ts) and the WebSocket fan-out. `buildStages` constructs the real ones from
 * Config; tests may hand in their own.
 */
import type { Server } from 'node:http';
import type { Observable } from 'rxjs';
import type { Config } from '../config/defaults.js';
import type { UsersFeed } from '../icws/feed.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CommittedBatch, MirrorStatus } from '../mirror/types.js';
import type { RedisClient } from './redis.js';

export type { CommittedBatch, MirrorStatus };

export interface MirrorStage {
  status(): MirrorStatus;
}

export interface FanoutStage {
  attach(server: Server): void;
  start(): Promise<void> | void;
  notifyCommitted(batch: CommittedBatch): void;
  readonly clientCount: number;
  close(): Promise<void>;
}

export interface Stages {
  /** Absent for role fanout. */
  feed?: UsersFeed;
  mirror?: MirrorStage;
  /**
   * The message path (cold): subscribing starts it; each commit that wrote change entries. Completes after the feed
   * stopped and what it delivered is written; errors on a fatal ICWS condition. Absent for role fanout.
   */
  committed$?: Observable<CommittedBatch>;
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
