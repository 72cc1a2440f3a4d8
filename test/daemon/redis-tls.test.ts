/**
 * Redis connections are as secure as the URL says (README "Security"), against real TLS Redis: certificates made with
 * openssl, a redis-server and a redis-sentinel listening on a plain port AND a TLS port, each behind a counting
 * proxy. With rediss://, icwatch mirrors (standalone with redis.tls.caFile; Sentinel with TLS and auth) while the
 * plain ports receive nothing and every connection to the TLS ports opens with a TLS handshake; mutual TLS works
 * with a client certificate; a wrong CA, a missing client certificate and a wrong Sentinel password fail with clear
 * errors that hold no secret.
 */
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import type { Config } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';
import { createRedisClient, type RedisClient } from '../../src/redis/client.js';
import { createLogger } from '../../src/log/logger.js';
import type { SimUser } from '../helpers/mirror.js';
import { CountingProxy } from '../helpers/counting-proxy.js';
import { waitFor } from '../helpers/net.js';
import { killAll, startIcwatch, startSimulatorProcess, type SimulatorProcess } from '../helpers/processes.js';
import { uniquePrefix } from '../helpers/redis.js';
import { makeCertificates, startTlsRedis, startTlsSentinel, TLS_SERVERNAME, type Certificates, type TlsRedisProcess } from '../helpers/tls-redis.js';

const REDIS_PASSWORD = 'Tls/Redis#Pw?9 x';
const SENTINEL_PASSWORD = 'Sentinel-Pw-31c7';
const SIM_PASSWORD = 'sim-tls-pw';

/** A plain and a TLS counting proxy in front of a server's two ports. */
async function proxiesFor(server: TlsRedisProcess) {
  return { plain: await CountingProxy.start(server.plainPort), tls: await CountingProxy.start(server.tlsPort) };
}

/** A client built by icwatch's builder from `env`, logging into a string. */
function client(env: Record<string, string>): { redis: RedisClient; log: () => string; config: Config } {
  const config = loadConfig({ env: { ICWATCH_REDIS_BACKOFF_INITIAL_MS: '50', ICWATCH_REDIS_BACKOFF_MAX_MS: '200', ...env } });
  let text = '';
  const stream = new PassThrough().setEncoding('utf8');
  stream.on('data', (d: string) => (text += d));
  const logger = createLogger({ level: 'debug', format: 'json', stream });
  return { redis: createRedisClient(config.redis, logger, { connectTimeoutMs: 3000 }), log: () => text, config };
}

/** The first connection error a client built from `env` logs, and all it logged by then. */
async function firstError(env: Record<string, string>): Promise<{ line: string; log: string }> {
  const { redis, log } = client(env);
  try {
    const line = await waitFor(
      'a Redis error logged',
      () =>
        log()
          .split('\n')
          .find((l) => l.includes('Redis error')),
      20000,
    );
    return { line, log: log() };
  } finally {
    redis.disconnect();
  }
}

describe('Redis over TLS (real redis-server and redis-sentinel)', function () {
  this.timeout(180000);
  let certs: Certificates;
  let sim: SimulatorProcess;
  before(async () => {
    certs = await makeCertificates();
    sim = await startSimulatorProcess({ users: 5, seed: 11, password: SIM_PASSWORD });
  });
  after(async () => {
    killAll();
    await sim?.stop();
    certs?.destroy();
  });

  /** `icwatch run` with `env` mirrors a change of the simulator and serves it from Redis over HTTP. */
  async function mirrorsAChange(env: Record<string, string>, statusText: string): Promise<string> {
    const icwatch = await startIcwatch({
      ICWATCH_ICWS_URL: sim.url,
      ICWATCH_ICWS_PASSWORD: SIM_PASSWORD,
      ICWATCH_REDIS_KEY_PREFIX: uniquePrefix('tls'),
      ...env,
    });
    try {
      await waitFor('ready', async () => (await icwatch.get('/readyz')).status === 200, 60000, 200);
      const [first] = await sim.control<SimUser[]>('GET', 'users');
      const id = first!.configurationId.id;
      await sim.control('POST', `users/${encodeURIComponent(id)}`, { statusText });
      await waitFor(
        'the change read back from the mirror',
        async () => (await icwatch.get(`/v1/users/${encodeURIComponent(id)}`)).text.includes(statusText),
        30000,
        100,
      );
      return icwatch.stdout() + icwatch.stderr();
    } finally {
      await icwatch.stop();
    }
  }

  describe('standalone, redis.tls.caFile', () => {
    let server: TlsRedisProcess;
    let proxies: Awaited<ReturnType<typeof proxiesFor>>;
    before(async () => {
      server = await startTlsRedis(certs, { password: REDIS_PASSWORD });
      proxies = await proxiesFor(server);
    });
    after(async () => {
      await proxies?.plain.close();
      await proxies?.tls.close();
      await server?.destroy();
    });
    const url = () => `rediss://default:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:${proxies.tls.port}`;

    it('icwatch run mirrors over TLS: the plain port receives nothing, every connection opens with a TLS handshake', async () => {
      const out = await mirrorsAChange(
        { ICWATCH_REDIS_URL: url(), ICWATCH_REDIS_TLS_CA_FILE: certs.caFile, ICWATCH_REDIS_TLS_SERVERNAME: TLS_SERVERNAME },
        'Over TLS',
      );
      expect(out).not.to.include(REDIS_PASSWORD);
      expect(proxies.plain.connections).to.equal(0);
      expect(proxies.tls.connections).to.be.greaterThan(1);
      expect(proxies.tls.allTls, `first bytes ${proxies.tls.firstBytes.join(',')}`).to.equal(true);
      expect(proxies.tls.carried(REDIS_PASSWORD)).to.equal(false);
    });

    it('a wrong CA fails with a clear error that names TLS and the certificate, and holds no secret', async () => {
      const { line, log } = await firstError({
        ICWATCH_REDIS_URL: url(),
        ICWATCH_REDIS_TLS_CA_FILE: certs.otherCaFile,
        ICWATCH_REDIS_TLS_SERVERNAME: TLS_SERVERNAME,
      });
      expect(line).to.match(/TLS: .*certificate.*redis\.tls\.caFile/);
      expect(log).not.to.include(REDIS_PASSWORD);
      expect(log).not.to.include(encodeURIComponent(REDIS_PASSWORD));
    });
  });

  describe('mutual TLS (the server requires a client certificate)', () => {
    let server: TlsRedisProcess;
    before(async () => (server = await startTlsRedis(certs, { authClients: true })));
    after(async () => server?.destroy());

    it('works with redis.tls.certFile + keyFile: a write and a read', async () => {
      const { redis } = client({
        ICWATCH_REDIS_URL: `rediss://127.0.0.1:${server.tlsPort}`,
        ICWATCH_REDIS_TLS_CA_FILE: certs.caFile,
        ICWATCH_REDIS_TLS_CERT_FILE: certs.clientCert,
        ICWATCH_REDIS_TLS_KEY_FILE: certs.clientKey,
        ICWATCH_REDIS_TLS_SERVERNAME: TLS_SERVERNAME,
      });
      try {
        const key = `${uniquePrefix('mtls')}:k`;
        await redis.set(key, 'with a client certificate');
        expect(await redis.get(key)).to.equal('with a client certificate');
      } finally {
        redis.disconnect();
      }
    });

    it('without a client certificate the server refuses, and the error says so', async () => {
      const { line } = await firstError({
        ICWATCH_REDIS_URL: `rediss://127.0.0.1:${server.tlsPort}`,
        ICWATCH_REDIS_TLS_CA_FILE: certs.caFile,
        ICWATCH_REDIS_TLS_SERVERNAME: TLS_SERVERNAME,
      });
      expect(line).to.match(/requires a client certificate.*redis\.tls\.certFile and redis\.tls\.keyFile/);
    });
  });

  describe('Sentinel with TLS and auth', () => {
    let master: TlsRedisProcess;
    let sentinel: TlsRedisProcess;
    let masterProxies: Awaited<ReturnType<typeof proxiesFor>>;
    let sentinelProxies: Awaited<ReturnType<typeof proxiesFor>>;
    before(async () => {
      master = await startTlsRedis(certs, { password: REDIS_PASSWORD });
      masterProxies = await proxiesFor(master);
      // The Sentinel names the master at its TLS proxy: every connection icwatch makes to it is counted.
      sentinel = await startTlsSentinel(certs, { masterPort: masterProxies.tls.port, masterPassword: REDIS_PASSWORD, password: SENTINEL_PASSWORD });
      sentinelProxies = await proxiesFor(sentinel);
    });
    after(async () => {
      for (const p of [masterProxies?.plain, masterProxies?.tls, sentinelProxies?.plain, sentinelProxies?.tls]) await p?.close();
      await sentinel?.destroy();
      await master?.destroy();
    });
    const env = (sentinelPassword: string) => ({
      ICWATCH_REDIS_MODE: 'sentinel',
      ICWATCH_REDIS_NODES: `127.0.0.1:${sentinelProxies.tls.port}`,
      ICWATCH_REDIS_URL: `rediss://default:${encodeURIComponent(REDIS_PASSWORD)}@127.0.0.1:6379`,
      ICWATCH_REDIS_SENTINEL_PASSWORD: sentinelPassword,
      ICWATCH_REDIS_TLS_CA_FILE: certs.caFile,
      ICWATCH_REDIS_TLS_SERVERNAME: TLS_SERVERNAME,
    });

    it('icwatch run mirrors through the Sentinel-chosen master: no plaintext byte reaches the master or the Sentinel', async () => {
      const out = await mirrorsAChange(env(SENTINEL_PASSWORD), 'Through a TLS Sentinel');
      for (const secret of [REDIS_PASSWORD, SENTINEL_PASSWORD]) expect(out).not.to.include(secret);
      expect(masterProxies.plain.connections, 'master plain port').to.equal(0);
      expect(sentinelProxies.plain.connections, 'sentinel plain port').to.equal(0);
      for (const [name, proxy] of [
        ['master', masterProxies.tls],
        ['sentinel', sentinelProxies.tls],
      ] as const) {
        expect(proxy.connections, `${name} TLS port`).to.be.greaterThan(0);
        expect(proxy.allTls, `${name}: first bytes ${proxy.firstBytes.join(',')}`).to.equal(true);
        for (const secret of [REDIS_PASSWORD, SENTINEL_PASSWORD]) expect(proxy.carried(secret), `${name} carried a password in clear`).to.equal(false);
      }
    });

    it('a wrong Sentinel password fails with a clear error that holds no secret', async () => {
      const { line, log } = await firstError(env('not-the-sentinel-pw'));
      expect(line).to.match(/WRONGPASS|invalid username-password|NOAUTH/);
      expect(line).to.include('check redis.sentinelUsername and redis.sentinelPassword');
      for (const secret of [REDIS_PASSWORD, SENTINEL_PASSWORD, 'not-the-sentinel-pw']) expect(log).not.to.include(secret);
    });
  });
});
