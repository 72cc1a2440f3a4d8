/** A FanoutServer on its own HTTP server (127.0.0.1, port 0) over the shared Redis, for the fan-out tests. */
import http from 'node:http';
import { Redis } from 'ioredis';
import { DEFAULTS } from '../../src/config/defaults.js';
import { silentLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { FanoutServer, type FanoutOptions } from '../../src/fanout/server.js';
import { IcwatchClient, type IcwatchClientOptions } from '../../src/client/index.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { LayoutWriter } from './layout.js';

export interface Harness {
  fanout: FanoutServer;
  /** The HTTP server the fan-out is attached to (its `upgrade` events are the connections clients make). */
  server: http.Server;
  metrics: Metrics;
  url: string;
  port: number;
  client(options?: Partial<IcwatchClientOptions>): IcwatchClient;
  /** Counter value of icwatch_ws_disconnects_total{reason}. */
  disconnects(reason: string): Promise<number>;
  close(): Promise<void>;
}

export async function startHarness(redis: Redis, keyPrefix: string, overrides: Partial<FanoutOptions> = {}): Promise<Harness> {
  const metrics = new Metrics({ defaultMetrics: false });
  const fanout = new FanoutServer({
    redis,
    createSubscriber: () => new Redis(SHARED_REDIS_URL),
    keyPrefix,
    path: '/v1/users',
    tokens: [],
    properties: DEFAULTS.subscription.properties,
    maxBufferedBytes: 4 * 1024 * 1024,
    snapshotChunkUsers: 7,
    pingIntervalMs: 30000,
    maxClients: 100,
    maxClientFrameBytes: 4096,
    maxClientErrors: 3,
    version: 'test',
    metrics,
    logger: silentLogger(),
    ...overrides,
    limits: { pollIntervalMs: 200, ...overrides.limits },
  });
  const server = http.createServer((_req, res) => res.writeHead(200).end('ok'));
  fanout.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  await fanout.start();
  const port = (server.address() as { port: number }).port;
  const url = `ws://127.0.0.1:${port}/v1/users`;
  const clients: IcwatchClient[] = [];
  return {
    fanout,
    server,
    metrics,
    url,
    port,
    client(options = {}) {
      const c = new IcwatchClient({ url, backoff: { initialMs: 20, maxMs: 200, multiplier: 2, jitter: 0.5 }, ...options });
      c.on('error', () => {});
      clients.push(c);
      return c.start();
    },
    async disconnects(reason) {
      const m = await metrics.wsDisconnects.get();
      return m.values.find((v) => v.labels.reason === reason)?.value ?? 0;
    },
    async close() {
      await Promise.all(clients.map((c) => c.stop()));
      await fanout.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Fixture {
  redis: Redis;
  prefix: string;
  writer: LayoutWriter;
  /** Started before each test unless `fanout: null` (then the test starts it and assigns it here). */
  h: Harness;
}

/**
 * Registers beforeEach/afterEach hooks: a Redis client, a fresh prefix, a LayoutWriter seeded with `users` users
 * (u0…, extension 1000+i, plus `seed` properties) and a harness; everything is dropped and closed afterwards.
 */
export function useFixture(
  label: string,
  o: { users: number; seed?: Record<string, unknown>; writer?: ConstructorParameters<typeof LayoutWriter>[2]; fanout?: Partial<FanoutOptions> | null },
): Fixture {
  const f = {} as Fixture;
  beforeEach(async () => {
    f.redis = new Redis(SHARED_REDIS_URL);
    f.prefix = uniquePrefix(label);
    f.writer = new LayoutWriter(f.redis, f.prefix, o.writer);
    await f.writer.init();
    for (let i = 0; i < o.users; i++) await f.writer.upsert(`u${i}`, { extension: String(1000 + i), ...o.seed });
    if (o.fanout !== null) f.h = await startHarness(f.redis, f.prefix, o.fanout);
  });
  afterEach(async () => {
    await f.h?.close();
    f.h = undefined as unknown as Harness;
    await dropPrefix(f.redis, f.prefix);
    await f.redis.quit();
  });
  return f;
}
