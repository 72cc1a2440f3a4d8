/** The status page's content: the mirror's state (from the mirror, or from Redis in role fanout), lag, last changes. */
import type { StatusView } from '../http/types.js';
import { histogramQuantile } from '../http/quantile.js';
import { decodeChangeEntry, type ChangeEntry } from '../mirror/change.js';
import { mirrorKeys, type MirrorKeys } from '../mirror/keys.js';
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
export async function readMeta(redis: RedisClient, keys: MirrorKeys): Promise<MirrorFigures> {
  const meta = await redis.hgetall(keys.meta);
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  return {
    epoch: meta.epoch,
    seq: num(meta.seq),
    users: num(meta.users),
    syncing: meta.syncing === undefined ? undefined : meta.syncing === '1',
    lastChangeAt: num(meta.lastChangeAt),
    verifiedAt: num(meta.verifiedAt),
  };
}

/** The newest change entries, newest first; entries that do not decode are skipped. */
export async function recentChanges(redis: RedisClient, keys: MirrorKeys, count = STATUS_RECENT_CHANGES): Promise<ChangeEntry[]> {
  const entries = (await redis.xrevrange(keys.changes, '+', '-', 'COUNT', count)) as Array<[string, string[]]>;
  const out: ChangeEntry[] = [];
  for (const [, fields] of entries) {
    try {
      out.push(decodeChangeEntry(fields));
    } catch {
      // a foreign entry is not the status page's business
    }
  }
  return out;
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
  const keys = mirrorKeys(config.redis.keyPrefix);
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
    try {
      if (!mirror) {
        figures = await readMeta(redis, keys);
        removalsHeld = await redis.scard(keys.held);
      }
      changes = await recentChanges(redis, keys);
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
