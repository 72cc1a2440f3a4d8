/**
 * The real stages from Config: IcwsUsersFeed → usersPipeline → MirrorWriter, then FanoutServer (role fanout: the
 * fan-out alone). `icwatch run` builds the two halves in different processes (docs/architecture.md, "Processes").
 */
import { FanoutServer } from '../fanout/server.js';
import { IcwsUsersFeed } from '../icws/users-feed.js';
import { MirrorWriter } from '../mirror/writer.js';
import { usersPipeline } from '../pipeline/pipeline.js';
import { componentLogger } from '../log/logger.js';
import type { StageContext, Stages } from './stages.js';

export async function buildStages(ctx: StageContext): Promise<Stages> {
  const fanout = buildFanout(ctx);
  if (ctx.config.role === 'fanout') return { fanout };
  return { ...buildWriter(ctx), fanout };
}

/** The WebSocket fan-out; `worker` is the serving worker's id, told to clients in the hello. */
export function buildFanout(ctx: StageContext, worker?: string): FanoutServer {
  const { config, redis, metrics, logger } = ctx;
  return new FanoutServer({
    redis,
    createSubscriber: ctx.createSubscriber,
    keyPrefix: config.redis.keyPrefix,
    path: config.websocket.path,
    tokens: config.websocket.tokens,
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

/** The ICWS feed, the mirror writer and the pipeline between them. */
export function buildWriter(ctx: StageContext): Required<Pick<Stages, 'feed' | 'mirror' | 'committed$'>> {
  const { config, redis, metrics, logger } = ctx;
  const feed = new IcwsUsersFeed(config, { metrics, logger });
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
  });
  const committed$ = usersPipeline(feed, mirror, {
    maxPendingMessages: config.redis.maxPendingMessages,
    maxBatchMessages: config.redis.maxBatchMessages,
    redis,
    metrics,
    logger: componentLogger(logger, 'mirror'),
  });
  return { feed, mirror, committed$ };
}
