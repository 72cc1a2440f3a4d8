/**
 * Every Redis client of icwatch is built here, from redis.*: a standalone URL, Sentinel (redis.nodes + sentinelName) or
 * Cluster (redis.nodes). In Sentinel and Cluster modes, credentials, TLS and the database come from redis.url too.
 * `rediss://` means TLS on every connection of every mode (README "Security"): the server, each Cluster node (its
 * redisOptions), the Sentinel-chosen master (ioredis enableTLSForSentinelMode) and the Sentinels themselves
 * (sentinelTLS), with redis.tls.* (CA, client certificate, servername). Passwords are registered for redaction.
 *
 * Retry policy: reconnect forever with the configured backoff (a daemon must outlive a Redis restart), but a
 * command issued while Redis is away fails after a few reconnect attempts instead of waiting in an unbounded
 * offline queue: the mirror's own backoff retries it, and memory stays bounded.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/defaults.js';
import { ConfigError } from '../config/errors.js';
import { parseRedisUrl, printableRedisUrl, type RedisUrl } from '../config/redis-url.js';
import { registerSecret } from '../log/redact.js';
import type { Logger } from '../log/logger.js';
import { Backoff } from '../util/backoff.js';

export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** Reconnect attempts a queued command survives before it fails (the caller retries with its backoff). */
  maxRetriesPerRequest: number;
  connectTimeoutMs: number;
  /** Name shown by CLIENT LIST. */
  connectionName: string;
  /** One try, no reconnects, no queue (a probe: is a Redis there?); connect() starts it. */
  probe?: boolean;
}

export const REDIS_CLIENT_DEFAULTS: RedisClientOptions = { maxRetriesPerRequest: 2, connectTimeoutMs: 5000, connectionName: 'icwatch' };

/** redis.url read (the schema has checked it already: a failure here is a configuration error all the same). */
function redisUrl(redis: Config['redis']): RedisUrl {
  const url = parseRedisUrl(redis.url);
  if ('problem' in url) throw new ConfigError('redis.url', url.problem);
  return url;
}

/** The TLS options of every connection when redis.url is rediss://, else undefined. */
export function tlsOptions(redis: Config['redis']): ConnectionOptions | undefined {
  if (!redisUrl(redis).tls) return undefined;
  const { caFile, certFile, keyFile, servername } = redis.tls;
  return {
    ...(caFile ? { ca: readPem(caFile, 'redis.tls.caFile') } : {}),
    ...(certFile ? { cert: readPem(certFile, 'redis.tls.certFile') } : {}),
    ...(keyFile ? { key: readPem(keyFile, 'redis.tls.keyFile') } : {}),
    ...(servername ? { servername } : {}),
  };
}

/** Credentials, TLS and database of redis.* as ioredis options (passwords registered for redaction). */
export function urlOptions(redis: Config['redis']): RedisOptions {
  const url = redisUrl(redis);
  const password = redis.password || url.password;
  registerSecret(password);
  registerSecret(encodeURIComponent(password));
  const tls = tlsOptions(redis);
  return {
    ...(url.username ? { username: url.username } : {}),
    ...(password ? { password } : {}),
    ...(tls ? { tls } : {}),
    ...(url.db > 0 ? { db: url.db } : {}),
  };
}

/** Where Redis is, for log lines and the status page: never a password. */
export function describeRedis(redis: Config['redis']): string {
  const url = parseRedisUrl(redis.url);
  if ('problem' in url) return 'redis.url (unreadable)';
  if (redis.mode === 'standalone') return printableRedisUrl(url, Boolean(redis.password || url.password));
  const tls = url.tls ? ', TLS' : '';
  return `${redis.mode} ${redis.nodes.join(',')}${redis.mode === 'sentinel' ? ` (${redis.sentinelName})` : ''}${tls}`;
}

const hostPort = (node: string) => {
  const i = node.lastIndexOf(':');
  return { host: node.slice(0, i), port: Number(node.slice(i + 1)) };
};

export function createRedisClient(redis: Config['redis'], logger: Logger, options: Partial<RedisClientOptions> = {}): RedisClient {
  const o = { ...REDIS_CLIENT_DEFAULTS, ...options };
  const backoff = new Backoff(redis.backoff);
  // ioredis calls this with the attempt number; a fresh attempt count after a success restarts at initialMs.
  const retryStrategy = o.probe
    ? () => null
    : (times: number) => {
        if (times <= 1) backoff.reset();
        return backoff.next();
      };
  const common: RedisOptions = {
    ...urlOptions(redis),
    connectionName: o.connectionName,
    // No CLIENT SETINFO on connecting: Redis before 7.2 has no such command, and the README's ACL need not allow it.
    disableClientInfo: true,
    connectTimeout: o.connectTimeoutMs,
    maxRetriesPerRequest: o.probe ? 0 : o.maxRetriesPerRequest,
    enableOfflineQueue: !o.probe,
    ...(o.probe ? { lazyConnect: true } : {}),
  };
  let client: RedisClient;
  if (redis.mode === 'cluster') {
    const { db: _db, lazyConnect, ...redisOptions } = common;
    client = new Cluster(redis.nodes.map(hostPort), {
      clusterRetryStrategy: retryStrategy,
      enableOfflineQueue: !o.probe,
      ...(lazyConnect ? { lazyConnect } : {}),
      // Every node connection, those found through CLUSTER SLOTS included, is made with these (TLS too).
      redisOptions,
    });
  } else if (redis.mode === 'sentinel') {
    registerSecret(redis.sentinelPassword);
    client = new Redis({
      ...common,
      sentinels: redis.nodes.map(hostPort),
      name: redis.sentinelName,
      sentinelRetryStrategy: retryStrategy,
      retryStrategy,
      ...(redis.sentinelUsername ? { sentinelUsername: redis.sentinelUsername } : {}),
      ...(redis.sentinelPassword ? { sentinelPassword: redis.sentinelPassword } : {}),
      // Without these, ioredis reaches the master and the Sentinels in clear whatever `tls` says.
      ...(common.tls ? { enableTLSForSentinelMode: true, sentinelTLS: common.tls } : {}),
    });
  } else {
    const url = redisUrl(redis);
    client = new Redis({ ...common, host: url.host, port: url.port, retryStrategy });
  }
  // Without a listener ioredis prints every connection error itself; log each distinct one once per outage.
  let lastError = '';
  client.on('error', (err: Error) => {
    const message = describeRedisError(err, redis);
    if (message !== lastError) logger.warn(`Redis error: ${message}`, { redis: describeRedis(redis) });
    lastError = message;
  });
  client.on('ready', () => {
    if (lastError) logger.info('Redis reachable again', { redis: describeRedis(redis) });
    lastError = '';
  });
  return client;
}

/**
 * A connection error in words an operator acts on: a certificate failure says it is TLS and which keys to check, a
 * Sentinel's refusal which credentials it refused. ioredis's retry delay is left out, so one cause is logged once.
 */
export function describeRedisError(err: Error, redis?: Config['redis']): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const message = err.message.replace(/ after \d+ms\./, '.');
  if (/alert certificate required/i.test(message)) return 'TLS: the server requires a client certificate (set redis.tls.certFile and redis.tls.keyFile)';
  if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH)/.test(code) || /certificate|ssl routines/i.test(message)) {
    return `TLS: ${message.split('\n')[0]} (check redis.tls.caFile, redis.tls.servername and the server's certificate)`;
  }
  // TLS 1.3 may report the server's refusal of a client without a certificate as a mere reset.
  if (code === 'ECONNRESET' && redis && !redis.tls.certFile && redis.url.startsWith('rediss:')) {
    return `${message} (a TLS server that requires a client certificate resets clients without one: redis.tls.certFile and redis.tls.keyFile)`;
  }
  if (/sentinel/i.test(message) && /WRONGPASS|NOAUTH/.test(message))
    return `${message} (the Sentinels refused: check redis.sentinelUsername and redis.sentinelPassword)`;
  return message;
}

/** A PEM file's content; an unreadable one is a configuration error naming the key (exit 78). */
function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(key, `cannot read the file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}): expected a readable PEM file`);
  }
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
