/** The daemon's HttpServer with the HTTP reads and the WebSocket fan-out on one port, over a LayoutWriter's mirror. */
import { expect } from 'chai';
import http from 'node:http';
import { Redis } from 'ioredis';
import type { SitePolicy, TokenSpec } from '../../src/fanout/access.js';
import { FanoutServer } from '../../src/fanout/server.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { HttpServer } from '../../src/http/server.js';
import type { ReadLimits } from '../../src/http/users-api.js';
import type { StatusView } from '../../src/http/types.js';
import { silentLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PresenceReadOptions } from '../../src/mirror/reader.js';
import { SHARED_REDIS_URL } from '../helpers/redis.js';

export interface ReadsServer {
  http: HttpServer;
  fanout: FanoutServer;
  /** http://127.0.0.1:PORT */
  base: string;
  close(): Promise<void>;
}

export async function startReadsServer(
  redis: Redis,
  keyPrefix: string,
  tokens: readonly TokenSpec[] = [],
  site: Partial<SitePolicy> = {},
  limits: Partial<ReadLimits> = {},
  properties: readonly string[] = DEFAULTS.subscription.properties,
  /** presence.*: off when absent, as before presence. */
  presence?: PresenceReadOptions,
): Promise<ReadsServer> {
  const metrics = new Metrics({ defaultMetrics: false });
  const logger = silentLogger();
  const status = async (): Promise<StatusView> => ({
    version: 'test',
    role: 'all',
    daemon: 'running',
    session: 'up',
    redis: 'reachable',
    lag: {},
    recentChanges: [],
  });
  const server = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    metrics,
    logger,
    readiness: async () => ({ ready: true, checks: {} }),
    status,
    reads: { redis, keyPrefix, path: '/v1/users', tokens, properties, presence, indexedProperties: ['extension'], limits },
    site,
  });
  const fanout = new FanoutServer({
    redis,
    createSubscriber: () => new Redis(SHARED_REDIS_URL),
    keyPrefix,
    path: '/v1/users',
    tokens,
    properties,
    presence,
    site,
    maxBufferedBytes: 4 * 1024 * 1024,
    snapshotChunkUsers: 50,
    pingIntervalMs: 30000,
    maxClients: 100,
    maxClientFrameBytes: 4096,
    maxClientErrors: 3,
    version: 'test',
    metrics,
    logger,
    limits: { pollIntervalMs: 200 },
  });
  fanout.attach(server.server);
  const port = await server.listen();
  await fanout.start();
  return {
    http: server,
    fanout,
    base: `http://127.0.0.1:${port}`,
    async close() {
      await fanout.close();
      server.server.closeAllConnections();
      await server.close();
    },
  };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON (undefined when empty or compressed). */
  json: any;
}

/** A plain GET (no automatic decompression, unlike fetch), so that the test sees what went over the wire. */
export function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          let json: unknown;
          try {
            json = res.headers['content-encoding'] ? undefined : body.length ? JSON.parse(body.toString('utf8')) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      })
      .on('error', reject);
  });
}

/** Each path is answered 400 naming its bad parameter, with what was wrong and what was expected. */
export async function expectBadParameters(base: string, cases: readonly [path: string, parameter: string][]): Promise<void> {
  for (const [path, parameter] of cases) {
    const a = await get(`${base}${path}`);
    expect(a.status, path).to.equal(400);
    expect(a.json.parameter, path).to.equal(parameter);
    expect(a.json.error, path).to.be.a('string').and.not.equal('');
    expect(a.json.expected, path).to.be.a('string').and.not.equal('');
  }
}

/** p-quantile of `values` (nearest rank); NaN for none. */
export function quantile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! : NaN;
}

/** Every non-empty subset of `names`, in a fixed order (distinct `props` combinations). */
export function subsets(names: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let mask = 1; mask < 1 << names.length; mask++) out.push(names.filter((_, i) => mask & (1 << i)));
  return out;
}
