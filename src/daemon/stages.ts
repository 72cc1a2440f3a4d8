/**
 * The stages the daemon wires together, as the daemon sees them: the ICWS feed, the Redis mirror and the
 * WebSocket fan-out. `buildStages` constructs the real ones from Config; tests may hand in their own.
 */
import type { Server } from 'node:http';
import type { Observable } from 'rxjs';
import type { Config } from '../config/defaults.js';
import type { UsersFeed } from '../icws/feed.js';
import type { ReceivedUsersMessage } from '../icws/messages.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CommittedBatch, MirrorStatus } from '../mirror/mirror.js';
import type { RedisClient } from './redis.js';

export type { CommittedBatch, MirrorStatus };

export interface MirrorStage {
  init(): Promise<void>;
  run(messages$: Observable<ReceivedUsersMessage>): void;
  /** Settles when the mirror stops; rejects with the feed's fatal error once what came before it is applied. */
  readonly done: Promise<void>;
  readonly committed$: Observable<CommittedBatch>;
  status(): MirrorStatus;
  drain(timeoutMs: number): Promise<unknown>;
}

export interface FanoutStage {
  attach(server: Server): void;
  start(): Promise<void> | void;
  notifyCommitted(batch: CommittedBatch): void;
  readonly clientCount: number;
  close(): Promise<void>;
}

/** The ICWS feed and the mirror writer of one leadership term (src/ha/writer-term.ts). */
export interface WriterStages {
  feed: UsersFeed;
  mirror: MirrorStage;
}

export interface WriterContext {
  /** The leader's fencing token, carried by every write (undefined with ha.enabled false). */
  fence?: number;
  /** The mirror's write was refused for its fence: another replica leads now. */
  onFenced(currentFence: string): void;
}

/** Builds a fresh feed and mirror each time this replica becomes the leader. */
export type WriterFactory = (context: WriterContext) => WriterStages;

export interface Stages {
  /** Absent for role fanout. */
  writer?: WriterFactory;
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
