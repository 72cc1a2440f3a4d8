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

export interface Stages {
  /** Absent for role fanout. */
  feed?: UsersFeed;
  mirror?: MirrorStage;
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
  /** The mirror dropped its queue: the feed must send a fresh full replace. */
  onOverflow(): void;
}

export type StageFactory = (context: StageContext) => Promise<Stages>;
