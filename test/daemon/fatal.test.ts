/**
 * Conditions retrying cannot fix stop icwatch with exit 78 and a clear line (410 Gone, a subscription the server
 * refuses); a refused login is not one of them: icwatch stays up, and /readyz says why it is not ready.
 * A run that must fail is only awaited to its exit: the primary meets the ICWS error while its workers are still
 * starting, so their "HTTP on" line may come after the fatal one, or never (README "Shutdown, restarts and exit codes").
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { killAll, spawnIcwatch, startIcwatch, startSimulatorProcess, type CliProcess, type SimulatorProcess } from '../helpers/processes.js';

describe('icwatch on conditions retrying cannot fix, and on a second signal', function () {
  this.timeout(60000);
  let redis: Redis;
  let prefix: string;
  let sim: SimulatorProcess;
  let icwatch: CliProcess | undefined;
  const env = (extra: Record<string, string> = {}) => ({
    ICWATCH_ICWS_URL: sim.url,
    ICWATCH_ICWS_PASSWORD: 'icwatch',
    ICWATCH_ICWS_BACKOFF_INITIAL_MS: '100',
    ICWATCH_ICWS_BACKOFF_MAX_MS: '500',
    ICWATCH_REDIS_URL: SHARED_REDIS_URL,
    ICWATCH_REDIS_KEY_PREFIX: prefix,
    ...extra,
  });
  const errorLines = (p: CliProcess) =>
    p
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: string; message: string })
      .filter((l) => l.level === 'error');

  before(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('fatal');
    sim = await startSimulatorProcess({ users: 10, seed: 2 });
  });
  afterEach(async () => {
    await icwatch?.stop('SIGKILL');
    icwatch = undefined;
    await sim.control('DELETE', 'faults');
  });
  after(async () => {
    await sim.stop();
    killAll();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('exits 78 naming the removed resource when the server answers 410 Gone', async () => {
    await sim.control('POST', 'faults', { status: 410, route: 'subscription', method: 'PUT', count: 100, message: 'users subscriptions were removed' });
    icwatch = spawnIcwatch(env());
    expect(await icwatch.exited).to.equal(78);
    const messages = errorLines(icwatch)
      .map((e) => e.message)
      .join('\n');
    expect(messages).to.match(/410 Gone/);
    // The resource the server removed, by its path (README "Behaviour under faults").
    expect(messages).to.include('messaging/subscriptions/configuration/users/');
    expect(icwatch.stderr()).to.match(/^icwatch: exiting 78: .*messaging\/subscriptions\/configuration\/users\/.*410 Gone/m);
  });

  it('exits 78 naming the key and the missing user when the subscription names an unknown user', async () => {
    icwatch = spawnIcwatch(env({ ICWATCH_SUBSCRIPTION_CONFIGURATION_IDS: 'no-such-user-42' }));
    expect(await icwatch.exited).to.equal(78);
    const messages = errorLines(icwatch)
      .map((e) => e.message)
      .join('\n');
    expect(messages).to.include('subscription.configurationIds');
    expect(messages).to.include('no-such-user-42');
    expect(icwatch.stderr()).to.match(/^icwatch: exiting 78: subscription.configurationIds/m);
  });

  it('stays up on a refused login, /readyz saying "authentication failed", and stops cleanly', async () => {
    const running = (icwatch = await startIcwatch(env({ ICWATCH_ICWS_PASSWORD: 'wrong-password' })));
    const body = await waitFor('/readyz to name the authentication failure', async () => {
      const r = await running.get('/readyz');
      return r.status === 503 && r.text.includes('authentication failed') ? r.text : undefined;
    });
    expect(JSON.parse(body).missing).to.include('ICWS session up');
    expect(await icwatch.stop('SIGTERM')).to.equal(0);
  });

  it('exits 1 at once on a second signal while the shutdown waits for ICWS', async () => {
    const running = (icwatch = await startIcwatch(env()));
    await waitFor('ready', async () => (await running.get('/readyz')).status === 200, 20000, 100);
    await sim.control('POST', 'faults', { route: 'subscription', method: 'DELETE', delayMs: 4000, count: 1 });
    icwatch.child.kill('SIGTERM');
    await icwatch.waitForOutput(/shutting down: SIGTERM/);
    icwatch.child.kill('SIGTERM');
    expect(await icwatch.exited).to.equal(1);
    expect(icwatch.stdout()).to.include('SIGTERM again: exiting now');
  });
});
