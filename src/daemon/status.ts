/** The status page's content: the mirror's state (from the mirror, or from Redis in role fanout), lag, last changes. */
import type { StatusView } from '../http/types.js';
import { histogramQuantile } from '../http/quantile.js';
import { MirrorReader } from '../mirror/reader.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Config } from '../config/defaults.js';
import type { UsersFeed } from '../icws/feed.js';
import { describeLeadership } from '../ha/describe.js';
import type { Leadership } from '../ha/leadership.js';
import { describeSession } from './readiness.js';
import { describeRedis, redisAnswers, type RedisClient } from '../redis/client.js';
import type { FanoutStage, MirrorStage } from '../stages/contracts.js';

/** Change entries shown on the status page. */
export const STATUS_RECENT_CHANGES = 10;

export interface MirrorFigures {
  epoch?: string;
  seq?: number;
  users?: number;
  syncing?: boolean;
  lastChangeAt?: number;
  verifiedAt?: number;
}

/** Lag p50/p99 per stage from icwatch_lag_seconds. */
export async function lagQuantiles(metrics: Metrics): Promise<StatusView['lag']> {
  const lag: StatusView['lag'] = {};
  for (const stage of ['redis', 'websocket']) {
    lag[stage] = { p50: await histogramQuantile(metrics.lag, 0.5, { stage }), p99: await histogramQuantile(metrics.lag, 0.99, { stage }) };
  }
  return lag;
}

/** The mirror's meta hash, for a process that does not run the mirror itself (role fanout). */
export async function readMeta(reader: MirrorReader): Promise<MirrorFigures> {
  const { epoch, seq, users, syncing, lastChangeAt, verifiedAt } = await reader.meta();
  return { epoch, seq, users, syncing, lastChangeAt, verifiedAt };
}

export interface StatusSources {
  config: Config;
  /** The feed and mirror of the running writer term, when this process writes. */
  feed?: UsersFeed;
  mirror?: MirrorStage;
  fanout?: FanoutStage;
  leadership?: Leadership;
  redis?: RedisClient;
  metrics: Metrics;
  version: string;
  /** The daemon's state type. */
  daemon: string;
  lastError?: string;
}

/** What the status page shows of this process: the mirror (its own, or the meta in Redis), lag, the last changes. */
export async function statusView(src: StatusSources): Promise<StatusView> {
  const { config, redis, feed, mirror, fanout, leadership } = src;
  let figures: MirrorFigures = {};
  let lastError = src.lastError;
  let removalsHeld: number | undefined;
  if (mirror) {
    const s = mirror.status();
    figures = { epoch: s.epoch, seq: s.seq, users: s.users, syncing: s.syncing, lastChangeAt: s.lastChangeAt, verifiedAt: s.verifiedAt };
    removalsHeld = s.removalsHeld;
    lastError ??= s.lastError;
  }
  const redisUp = redis ? await redisAnswers(redis) : false;
  let changes: StatusView['recentChanges'] = [];
  if (redis && redisUp) {
    // With presence the recent changes include status entries (the page shows them; /v1/status scopes them).
    const reader = new MirrorReader(redis, config.redis.keyPrefix, { presence: config.presence });
    try {
      if (!mirror) {
        figures = await readMeta(reader);
        removalsHeld = await reader.heldCount();
      }
      // Entries that do not decode are skipped: a foreign entry is not the status page's business.
      changes = await reader.recentChanges(STATUS_RECENT_CHANGES);
    } catch (err) {
      lastError ??= (err as Error).message;
    }
  }
  return {
    version: src.version,
    role: config.role,
    daemon: src.daemon,
    session: feed
      ? describeSession(feed.state)
      : config.role === 'fanout'
        ? 'none (role fanout)'
        : leadership
          ? 'none (standby: the leader holds it)'
          : 'not started',
    ...(leadership ? { leader: describeLeadership(leadership.state, leadership.replicaId) } : {}),
    redis: `${describeRedis(config.redis)} — ${redisUp ? 'reachable' : 'unreachable'}`,
    ...figures,
    removalsHeld: removalsHeld ?? 0,
    wsClients: fanout?.clientCount,
    lag: await lagQuantiles(src.metrics),
    recentChanges: changes,
    ...(lastError ? { lastError } : {}),
  };
}
