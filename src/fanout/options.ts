/** What a FanoutServer is built from: the websocket.* configuration, and the internal bounds with their defaults. */
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PresenceReadOptions } from '../mirror/reader.js';
import type { SitePolicy, TokenSpec } from './access.js';
import type { RequestLimits } from './request.js';

export interface FanoutOptions {
  redis: Redis | Cluster;
  createSubscriber: () => Redis | Cluster;
  keyPrefix: string;
  path: string;
  tokens: readonly TokenSpec[];
  /** Origin and Host checks (http.allowedOrigins, http.allowedHosts, whether http.host is loopback). */
  site?: Partial<SitePolicy>;
  /** subscription.properties: what the mirror holds, so what a `props` filter may name. */
  properties: readonly string[];
  /** presence.*: snapshots carry `status`, status entries become status frames; absent = off. */
  presence?: PresenceReadOptions;
  maxBufferedBytes: number;
  snapshotChunkUsers: number;
  pingIntervalMs: number;
  maxClients: number;
  maxClientFrameBytes: number;
  maxClientErrors: number;
  version: string;
  /** The serving worker's id, sent in the hello frame (absent when one process serves). */
  worker?: string;
  metrics: Metrics;
  logger: Logger;
  /** Internal bounds with sensible defaults (FANOUT_LIMITS); tests shorten them. */
  limits?: Partial<FanoutLimits>;
}

export interface FanoutLimits extends RequestLimits {
  /** Stream entries per XRANGE page (live following and catching up). */
  streamPageEntries: number;
  /** Fallback poll of the mirror's head when no notification arrives. */
  pollIntervalMs: number;
  /** A slow consumer whose close frame has not gone out after this long is cut off. */
  slowConsumerGraceMs: number;
  /** On shutdown, clients that have not finished the close handshake after this long are cut off. */
  shutdownGraceMs: number;
  /** Frames larger than this (a multiple of maxClientFrameBytes: those in between get an error frame) close the connection with 1009. */
  hardFrameLimitFactor: number;
  /** Committed batches remembered for the websocket lag metric (role all). */
  maxTrackedBatches: number;
  /** Snapshot builds restarted when the stream is trimmed under them. */
  snapshotAttempts: number;
  /** A full snapshot still held by a client is reused for new clients while at most this many entries behind. */
  snapshotReuseMaxEntries: number;
  /**
   * Clients written to in one event-loop turn of a round; the rest of the round follows after other work ran. Small
   * enough that a change read while a round is written joins it within a few ms (reading it takes two turns: the
   * notification, then Redis's answer), large enough that yielding costs nothing next to the writes.
   */
  roundSliceClients: number;
  /** Change entries waiting for the next round before the follower stops reading the stream until it starts. */
  maxRoundEntries: number;
}

export const FANOUT_LIMITS: FanoutLimits = {
  maxFilterIds: 1000,
  maxIdLength: 256,
  streamPageEntries: 1000,
  pollIntervalMs: 1000,
  slowConsumerGraceMs: 5000,
  shutdownGraceMs: 2000,
  hardFrameLimitFactor: 16,
  maxTrackedBatches: 1024,
  snapshotAttempts: 5,
  snapshotReuseMaxEntries: 10000,
  roundSliceClients: 250,
  maxRoundEntries: 10000,
};
