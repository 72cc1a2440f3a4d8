/** The real stages from Config: IcwsUsersFeed → Mirror (one pair per leadership term) → FanoutServer (role fanout: the fan-out alone). */
import { FanoutServer } from '../fanout/server.js';
import { IcwsUsersFeed } from '../icws/users-feed.js';
import { Mirror } from '../mirror/mirror.js';
import type { StageContext, Stages, WriterContext, WriterStages } from './stages.js';

export async function buildStages(ctx: StageContext): Promise<Stages> {
  const { config, redis, metrics, logger } = ctx;
  const fanout = new FanoutServer({
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
    metrics,
    logger,
  });
  if (config.role === 'fanout') return { fanout };
  const writer = ({ fence, onFenced }: WriterContext): WriterStages => {
    const feed = new IcwsUsersFeed(config, { metrics, logger });
    const mirror = new Mirror({
      redis,
      keyPrefix: config.redis.keyPrefix,
      indexedProperties: config.redis.indexedProperties,
      changeStreamLength: config.redis.changeStreamLength,
      replaceBatchSize: config.redis.replaceBatchSize,
      maxPendingMessages: config.redis.maxPendingMessages,
      maxBatchMessages: config.redis.maxBatchMessages,
      backoff: config.redis.backoff,
      metrics,
      logger,
      // The mirror dropped its queue: the feed must send a fresh full replace.
      onOverflow: () => feed.resync('overflow'),
      fence,
      onFenced,
    });
    return { feed, mirror };
  };
  return { writer, fanout };
}
