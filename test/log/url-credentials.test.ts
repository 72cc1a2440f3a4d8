/**
 * A password given inside a URL (redis.url above all) is masked in every output: `check-config`, the error of a bad
 * value, a real `icwatch run` at debug level against a private Redis that requires that password, and what its
 * HTTP port serves (the status page `/`, /readyz, /metrics).
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { parseDocument } from 'yaml';
import type { Config } from '../../src/config/defaults.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import type { SimUser } from '../helpers/mirror.js';
import { waitFor } from '../helpers/net.js';
import { killAll, runCli, startIcwatch, startSimulatorProcess, type IcwatchProcess, type SimulatorProcess } from '../helpers/processes.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';

const REDIS_PASSWORD = 'Redis-Pw-in-url-4417';
const ICWS_URL_PASSWORD = 'Icws-Pw-in-url-9052';

describe('a password inside a URL', function () {
  this.timeout(60000);
  let redis: PrivateRedis;
  before(async () => (redis = await startPrivateRedis({ password: REDIS_PASSWORD })));
  after(async () => {
    killAll();
    await redis.destroy();
  });

  it('check-config prints redis.url and icws.url with the password masked, the rest of the URL kept', async () => {
    const { code, stdout, stderr } = await runCli(['check-config'], {
      ICWATCH_REDIS_URL: redis.url,
      ICWATCH_ICWS_URL: `https://svc:${ICWS_URL_PASSWORD}@ic1.example.com:8019/icws`,
    });
    expect(code, stderr).to.equal(0);
    for (const secret of [REDIS_PASSWORD, ICWS_URL_PASSWORD]) expect(stdout + stderr).not.to.include(secret);
    const printed = parseDocument(stdout).toJSON() as Config;
    expect(printed.redis.url).to.equal(`redis://default:[redacted]@127.0.0.1:${redis.port}`);
    expect(printed.icws.url).to.equal('https://svc:[redacted]@ic1.example.com:8019/icws');
  });

  it('the error naming a bad redis.url does not echo its password', async () => {
    const { code, stderr } = await runCli(['check-config'], { ICWATCH_REDIS_URL: `redis://default:${REDIS_PASSWORD}@127.0.0.1:${redis.port} /0` });
    expect(code).to.equal(78);
    expect(stderr).to.include('redis.url');
    expect(stderr).to.include('ICWATCH_REDIS_URL');
    expect(stderr).not.to.include(REDIS_PASSWORD);
  });

  describe('icwatch run at debug level against a Redis that requires it', () => {
    let sim: SimulatorProcess;
    let icwatch: IcwatchProcess | undefined;
    before(async () => (sim = await startSimulatorProcess({ users: 5, seed: 3, password: 'sim-password-x1' })));
    after(async () => {
      await icwatch?.stop('SIGKILL');
      await sim.stop();
    });

    it('mirrors (so it did log in to Redis), and neither its output nor /, /readyz and /metrics hold the password', async () => {
      const prefix = 'icwatch-test:url-credentials';
      icwatch = await startIcwatch({
        ICWATCH_LOG_LEVEL: 'debug',
        ICWATCH_ICWS_URL: sim.url,
        ICWATCH_ICWS_PASSWORD: 'sim-password-x1',
        ICWATCH_REDIS_URL: redis.url,
        ICWATCH_REDIS_KEY_PREFIX: prefix,
      });
      await waitFor('ready', async () => (await icwatch!.get('/readyz')).status === 200, 20000, 100);
      const reader = new Redis(redis.url);
      try {
        const [first] = await sim.control<SimUser[]>('GET', 'users');
        await sim.control('POST', `users/${encodeURIComponent(first!.configurationId.id)}`, { statusText: 'Seen through the password' });
        const key = mirrorKeys(prefix).user(first!.configurationId.id);
        await waitFor('the change in Redis', async () => (await reader.hget(key, 'statusText')) === JSON.stringify('Seen through the password'));
      } finally {
        reader.disconnect();
      }

      const page = await icwatch.get('/');
      expect(page.status).to.equal(200);
      expect(page.text, 'the status page shows where Redis is').to.include(`127.0.0.1:${redis.port}`);
      const served = [page.text, (await icwatch.get('/readyz')).text, (await icwatch.get('/metrics')).text, (await icwatch.get('/nowhere')).text];
      expect(await icwatch.stop('SIGTERM')).to.equal(0);

      const output = icwatch.stdout() + icwatch.stderr();
      expect(output).to.match(/"level":"debug"/);
      expect(output, 'the log names the Redis it uses').to.include(`127.0.0.1:${redis.port}`);
      for (const [what, text] of [
        ['stdout and stderr', output],
        ['/', served[0]],
        ['/readyz', served[1]],
        ['/metrics', served[2]],
        ['404', served[3]],
      ] as const) {
        expect(text!.includes(REDIS_PASSWORD), `the Redis password appears in ${what}`).to.equal(false);
      }
    });
  });
});
