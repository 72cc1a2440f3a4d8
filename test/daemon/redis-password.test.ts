/**
 * A Redis password with any character works (README "Security"): percent-encoded in redis.url or as is in
 * redis.password / redis.passwordFile, against a real redis-server that requires it; it never reaches output, and a
 * redis.url that does not parse exits 78 with a message that names the key and does not print the URL.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseDocument } from 'yaml';
import type { Config } from '../../src/config/defaults.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';
import { parseRedisUrl } from '../../src/config/redis-url.js';
import { createRedisClient, describeRedis, quitRedis } from '../../src/redis/client.js';
import { createLogger } from '../../src/log/logger.js';
import { runCli } from '../helpers/processes.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';

/** Every character that breaks a URL's structure, and a few that are merely unusual. */
const PASSWORD = 'p/w#x?y z@q%20:é"\'\\&=+';

describe('a Redis password with any character', function () {
  this.timeout(60000);
  let redis: PrivateRedis;
  const dir = mkdtempSync(join(tmpdir(), 'icwatch-redis-pw-'));
  before(async () => (redis = await startPrivateRedis({ password: PASSWORD })));
  after(async () => {
    await redis.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Connects with `config`, logging into a buffer; resolves with PING's answer and what was logged. */
  async function ping(config: Config['redis']): Promise<{ answer: string; log: string }> {
    let log = '';
    const stream = new PassThrough().setEncoding('utf8');
    stream.on('data', (d: string) => (log += d));
    const logger = createLogger({ level: 'debug', format: 'json', stream });
    const client = createRedisClient(config, logger);
    try {
      return { answer: await client.ping(), log: log + describeRedis(config) };
    } finally {
      await quitRedis(client);
    }
  }

  it('percent-encoded in redis.url: decoded and accepted by Redis, and the description masks it', async () => {
    const url = `redis://default:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}`;
    const parsed = parseRedisUrl(url);
    expect(parsed).to.include({ password: PASSWORD, username: 'default', port: redis.port });
    const { answer, log } = await ping({ ...structuredClone(DEFAULTS.redis), url });
    expect(answer).to.equal('PONG');
    expect(log).to.include(`redis://default:[redacted]@127.0.0.1:${redis.port}`);
    expect(log).not.to.include(encodeURIComponent(PASSWORD));
  });

  it('as is in redis.passwordFile (and redis.password), never printed by check-config', async () => {
    const file = join(dir, 'redis-password');
    writeFileSync(file, `${PASSWORD}\n`);
    const config = loadConfig({ env: { ICWATCH_REDIS_URL: `redis://127.0.0.1:${redis.port}`, ICWATCH_REDIS_PASSWORD_FILE: file } });
    expect(config.redis.password).to.equal(PASSWORD);
    expect((await ping(config.redis)).answer).to.equal('PONG');

    const r = await runCli(['check-config'], { ICWATCH_REDIS_URL: `redis://127.0.0.1:${redis.port}`, ICWATCH_REDIS_PASSWORD: PASSWORD });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout + r.stderr).not.to.include('p/w#x');
    expect((parseDocument(r.stdout).toJSON() as Config).redis.password).to.equal('[redacted]');
  });

  for (const [what, raw] of [
    ['/', 'pa/ss'],
    ['#', 'pa#ss'],
    ['?', 'pa?ss'],
    ['a space', 'pa ss'],
    ['# after a numeric start', '12#ss'],
    ['/ after a numeric start', '12/ss'],
  ] as const) {
    it(`unencoded with ${what} in redis.url: exit 78 naming redis.url, the hint to percent-encode, and no password`, async () => {
      const r = await runCli(['check-config'], { ICWATCH_REDIS_URL: `redis://default:${raw}word-9x@127.0.0.1:${redis.port}` });
      expect(r.code, r.stderr).to.equal(78);
      expect(r.stderr).to.include('redis.url');
      expect(r.stderr).to.include('percent-encoded');
      expect(r.stdout + r.stderr).not.to.include('word-9x');
    });
  }

  it('redis.tls.* with a plain redis:// URL, or a certificate without its key, is a configuration error naming the key', () => {
    const tried = (env: Record<string, string>) => {
      try {
        loadConfig({ env });
        return '';
      } catch (err) {
        expect(err).to.have.property('exitCode', 78);
        return (err as Error).message;
      }
    };
    expect(tried({ ICWATCH_REDIS_TLS_CA_FILE: '/etc/ca.pem' })).to.match(/^redis\.tls\.caFile: set while redis\.url is plain redis:\/\/: expected rediss:\/\//);
    expect(tried({ ICWATCH_REDIS_URL: 'rediss://127.0.0.1:6380', ICWATCH_REDIS_TLS_CERT_FILE: '/etc/c.pem' })).to.match(
      /^redis\.tls\.keyFile: expected redis\.tls\.certFile and redis\.tls\.keyFile together/,
    );
    expect(tried({ ICWATCH_REDIS_URL: 'rediss://127.0.0.1:6380', ICWATCH_REDIS_TLS_CA_FILE: '/etc/ca.pem' })).to.equal('');
  });
});
