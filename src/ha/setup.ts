/** The leadership of one daemon from ha.* (src/ha/leadership.ts), with its lease store and release wake-ups. */
import type { Config } from '../config/defaults.js';
import type { RedisClient } from '../redis/client.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { leaseKeys } from '../mirror/keys.js';
import { LeaseStore } from './lease.js';
import { Leadership, type RunningTerm, type TermFence } from './leadership.js';
import { replicaIdFor } from './replica-id.js';

export interface LeadershipDeps {
  config: Config;
  /**
   * A connection of the lease's own, so that a renew never waits behind the mirror's large writes in one pipeline
   * (those are queued on the daemon's main connection).
   */
  redis: RedisClient;
  /** A connection for SUBSCRIBE (the standby's wake-up on a released lease). */
  createSubscriber(): RedisClient;
  metrics: Metrics;
  logger: Logger;
  startTerm(fence: TermFence): Promise<RunningTerm>;
}

export function createLeadership(d: LeadershipDeps): Leadership {
  const { ha, redis: redisConfig } = d.config;
  const keys = leaseKeys(redisConfig.keyPrefix);
  const replicaId = replicaIdFor(ha.replicaId);
  d.metrics.leader.set(0);
  return new Leadership({
    enabled: ha.enabled,
    lease: ha.enabled ? new LeaseStore(d.redis, keys, replicaId, ha.leaseMs) : undefined,
    leaseMs: ha.leaseMs,
    renewMs: ha.renewMs,
    replicaId,
    startTerm: (fence) => d.startTerm(fence),
    metrics: d.metrics,
    logger: d.logger,
    onReleased: ha.enabled
      ? (released) => {
          const sub = d.createSubscriber();
          sub.on('message', (channel: string, by: string) => channel === keys.leaderReleased && released(by));
          // A failed SUBSCRIBE only costs the fast path: the standby still polls every ha.renewMs.
          sub.subscribe(keys.leaderReleased).catch(() => undefined);
          return () => void sub.unsubscribe().catch(() => undefined);
        }
      : undefined,
  });
}
