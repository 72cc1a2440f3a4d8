/**
 * The real stages from Config: IcwsUsersFeed → usersPipeline → MirrorWriter (one of each per leadership term, src/ha),
 * then FanoutServer (role fanout: the fan-out alone). `icwatch run` builds the two halves in different processes
 * (docs/architecture.md, "Processes").
 */
import { FanoutServer } from '../fanout/server.js';
import { IcwsUsersFeed } from '../icws/users-feed.js';
import { MirrorWriter } from '../mirror/writer.js';
import { heldRequests$ } from '../mirror/held-requests.js';
import { usersPipeline } from '../pipeline/pipeline.js';
import { componentLogger } from '../log/logger.js';
import { sitePolicy } from './site-policy.js';
import type { LeaderContext, LeaderStages, StageContext, Stages } from '../stages/contracts.js';
import type { Config } from '../config/defaults.js';
import { availableGroupSet } from '../mirror/presence.js';
import type { PresenceOptions } from '../mirror/types.js';

/** The writer's presence options from config.presence. */
export function presenceOptions(presence: Config['presence']): PresenceOptions {
  return {
    availableGroups: availableGroupSet(presence.availableGroups),
    maxPending: presence.maxPendingStatuses,
    metricWorkgroups: presence.metricWorkgroups,
  };
}

export async function buildStages(ctx: StageContext): Promise<Stages> {
  const fanout = buildFanout(ctx);
  if (ctx.config.role === 'fanout') return { fanout };
  return { leader: leaderStagesFactory(ctx), fanout };
}

/** The WebSocket fan-out; `worker` is the serving worker's id, told to clients in the hello. */
export function buildFanout(ctx: StageContext, worker?: string): FanoutServer {
  const { config, redis, metrics, logger } = ctx;
  return new FanoutServer({
    redis,
    createSubscriber: () => ctx.createSubscriber(),
    keyPrefix: config.redis.keyPrefix,
    path: config.websocket.path,
    tokens: config.websocket.tokens,
    properties: config.subscription.properties,
    presence: config.presence,
    site: sitePolicy(config),
    maxBufferedBytes: config.websocket.maxBufferedBytes,
    snapshotChunkUsers: config.websocket.snapshotChunkUsers,
    pingIntervalMs: config.websocket.pingIntervalMs,
    maxClients: config.websocket.maxClients,
    maxClientFrameBytes: config.websocket.maxClientFrameBytes,
    maxClientErrors: config.websocket.maxClientErrors,
    version: ctx.version,
    worker,
    metrics,
    logger,
  });
}

/** Builds a fresh feed, mirror writer and pipeline for each leadership term (src/ha/leadership-term.ts). */
export function leaderStagesFactory(ctx: StageContext): (context: LeaderContext) => LeaderStages {
  const { config, redis, metrics, logger } = ctx;
  // The writer of the term before: where it left the mirror is what the next one checks Redis against (lost writes).
  let previous: MirrorWriter | undefined;
  return ({ fence }: LeaderContext): LeaderStages => {
    const mirror = new MirrorWriter({
      redis,
      keyPrefix: config.redis.keyPrefix,
      indexedProperties: config.redis.indexedProperties,
      changeStreamLength: config.redis.changeStreamLength,
      replaceBatchSize: config.redis.replaceBatchSize,
      maxBatchMessages: config.redis.maxBatchMessages,
      backoff: config.redis.backoff,
      metrics,
      logger,
      fence,
      replicaWait: { replicas: config.redis.waitReplicas, timeoutMs: config.redis.waitTimeoutMs },
      committed: previous?.position(),
      deleteGuard: config.mirror.deleteGuard,
      ...(config.presence.enabled ? { presence: presenceOptions(config.presence) } : {}),
    });
    previous = mirror;
    // The feed asks the writer which users' texts it holds unchanged, so that a re-sync leaves them unparsed.
    const feed = new IcwsUsersFeed(config, {
      metrics,
      logger,
      knownUserTexts: mirror,
      // Presence: the feed keeps the user statuses subscription equal to the mirror's ids.
      ...(config.presence.enabled ? { presence: { ids: mirror, debounceMs: config.presence.subscribeDebounceMs } } : {}),
    });
    const mirrorLogger = componentLogger(logger, 'mirror');
    const committed$ = usersPipeline(feed, mirror, {
      maxPendingMessages: config.redis.maxPendingMessages,
      redis,
      metrics,
      logger: mirrorLogger,
      verifyIntervalMs: config.subscription.verifyIntervalMs,
      heldRequests$: heldRequests$(redis, () => ctx.createSubscriber(), config.redis.keyPrefix, mirrorLogger),
    });
    return { feed, mirror, committed$ };
  };
}
