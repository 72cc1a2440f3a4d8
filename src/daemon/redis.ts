/**
 * The Redis client of the daemon, built from redis.*: a standalone URL, Sentinel (redis.nodes + sentinelName) or
 * Cluster (redis.nodes). In Sentinel and Cluster modes, credentials, TLS and the database come from redis.url.
 *
 * Retry policy: reconnect forever with the configured backoff (a daemon must outlive a Redis restart), but a
 * command issued while Redis is away fails after a few reconnect attempts instead of waiting in an unbounded
 * offline queue: the mirror's own backoff retries it, and memory stays bounded.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/defaults.js';
import { redactUrl, registerSecret } from '../log/redact.js';
import type { Logger } from '../log/logger.js';
import { Backoff } from '../util/backoff.js';

export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** Reconnect attempts a queued command survives before it fails (the caller retries with its backoff). */
  maxRetriesPerRequest: number;
  connectTimeoutMs: number;
  /** Name shown by CLIENT LIST. */
  connectionName: string;
}

export const REDIS_CLIENT_DEFAULTS: RedisClientOptions = { maxRetriesPerRequest: 2, connectTimeoutMs: 5000, connectionName: 'icwatch' };

/** Credentials, TLS and database of redis.url, as ioredis options (secrets registered for redaction). */
export function urlOptions(url: string): RedisOptions {
  const u = new URL(url);
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  registerSecret(password);
  const db = Number(u.pathname.replace(/^\//, '') || 0);
  return {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    ...(Number.isSafeInteger(db) && db > 0 ? { db } : {}),
  };
}

/** redis.url with its password masked, for log lines and the status page. */
export function describeRedis(redis: Config['redis']): string {
  if (redis.mode === 'standalone') {
    return redactUrl(new URL(redis.url).toString());
  }
  return `${redis.mode} ${redis.nodes.join(',')}${redis.mode === 'sentinel' ? ` (${redis.sentinelName})` : ''}`;
}

const hostPort = (node: string) => {
  const i = node.lastIndexOf(':');
  return { host: node.slice(0, i), port: Number(node.slice(i + 1)) };
};

export function createRedisClient(redis: Config['redis'], logger: Logger, options: Partial<RedisClientOptions> = {}): RedisClient {
  const o = { ...REDIS_CLIENT_DEFAULTS, ...options };
  const backoff = new Backoff(redis.backoff);
  // ioredis calls this with the attempt number; a fresh attempt count after a success restarts at initialMs.
  const retryStrategy = (times: number) => {
    if (times <= 1) backoff.reset();
    return backoff.next();
  };
  const common: RedisOptions = {
    ...urlOptions(redis.url),
    connectionName: o.connectionName,
    connectTimeout: o.connectTimeoutMs,
    maxRetriesPerRequest: o.maxRetriesPerRequest,
    enableOfflineQueue: true,
  };
  let client: RedisClient;
  if (redis.mode === 'cluster') {
    const { db: _db, ...redisOptions } = common;
    client = new Cluster(redis.nodes.map(hostPort), {
      clusterRetryStrategy: retryStrategy,
      enableOfflineQueue: true,
      redisOptions,
    });
  } else if (redis.mode === 'sentinel') {
    client = new Redis({ ...common, sentinels: redis.nodes.map(hostPort), name: redis.sentinelName, sentinelRetryStrategy: retryStrategy, retryStrategy });
  } else {
    const u = new URL(redis.url);
    client = new Redis({ ...common, host: u.hostname, port: Number(u.port || 6379), retryStrategy });
  }
  // Without a listener ioredis prints every connection error itself; log each distinct one once per outage.
  let lastError = '';
  client.on('error', (err: Error) => {
    if (err.message !== lastError) logger.warn(`Redis error: ${err.message}`, { redis: describeRedis(redis) });
    lastError = err.message;
  });
  client.on('ready', () => {
    if (lastError) logger.info('Redis reachable again', { redis: describeRedis(redis) });
    lastError = '';
  });
  return client;
}

/**
 * True when the client is connected and answers PING within `timeoutMs`. `firstTry`: a new client's first connection
 * attempt is waited for first (firstAttempt).
 */
export async function redisAnswers(client: RedisClient, timeoutMs = 1000, firstTry = false): Promise<boolean> {
  if (firstTry) await firstAttempt(client);
  if (client.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      client.ping().then((r) => r === 'PONG'),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once a new client's first connection attempt has an outcome (ready, or an error or close), at most after
 * `timeoutMs`: asking before then would find it still connecting and report a healthy Redis as missing.
 */
export function firstAttempt(client: RedisClient, timeoutMs: number = REDIS_CLIENT_DEFAULTS.connectTimeoutMs): Promise<void> {
  if (client.status !== 'connecting' && client.status !== 'connect') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const event of ['ready', 'error', 'close'] as const) client.off(event, done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    for (const event of ['ready', 'error', 'close'] as const) client.once(event, done);
  });
}

/** QUIT politely; a client that does not answer within `timeoutMs` is disconnected. */
export async function quitRedis(client: RedisClient, timeoutMs = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
