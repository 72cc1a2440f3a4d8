/**
 * End to end: icwatch and the ICWS simulator as child processes on the shared Redis (a unique key prefix).
 * Readiness before and after the first sync, a change travelling simulator → Redis → WebSocket → lag metric,
 * the graceful shutdown as the ICWS server sees it, and convergence after a SIGKILL.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { IcwatchClient } from '../../src/client/index.js';
import { CLOSE } from '../../src/fanout/close-codes.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { freePort, waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { mirrorDifference, streamSeqs, type SimUser } from '../helpers/mirror.js';
import { killAll, metricValue, startIcwatch, startSimulatorProcess, type IcwatchProcess, type SimulatorProcess } from '../helpers/processes.js';

type RequestRecord = { method: string; path: string; route: string; status: number };

describe('icwatch end to end (child processes, real Redis)', function () {
  this.timeout(60000);
  let redis: Redis;
  let prefix: string;
  let simPort: number;
  let sim: SimulatorProcess | undefined;
  let icwatch: IcwatchProcess | undefined;
  const clients: IcwatchClient[] = [];

  const env = () => ({
    ICWATCH_ICWS_URL: `http://127.0.0.1:${simPort}/icws`,
    ICWATCH_ICWS_PASSWORD: 'icwatch',
    ICWATCH_ICWS_BACKOFF_INITIAL_MS: '100',
    ICWATCH_ICWS_BACKOFF_MAX_MS: '500',
    ICWATCH_REDIS_URL: SHARED_REDIS_URL,
    ICWATCH_REDIS_KEY_PREFIX: prefix,
  });
  const follow = (port: number) => {
    const c = new IcwatchClient({ url: `ws://127.0.0.1:${port}/v1/users`, reconnect: false });
    clients.push(c);
    return c.start();
  };

  before(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('e2e');
    simPort = await freePort();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await icwatch?.stop('SIGKILL');
    await sim?.stop();
    killAll();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('answers /readyz 503 naming what is missing before the first full sync, and 200 after', async () => {
    // The ICWS server is not there yet: icwatch keeps retrying with backoff meanwhile.
    icwatch = await startIcwatch(env());
    expect((await icwatch.get('/healthz')).status).to.equal(200);
    const before = await icwatch.get('/readyz');
    expect(before.status).to.equal(503);
    const reason = JSON.parse(before.text) as { status: string; missing: string[]; reason: string };
    expect(reason.missing).to.include.members(['ICWS session up', 'subscription active', 'first full sync applied']);
    expect(reason.reason).to.match(/^missing: /);

    sim = await startSimulatorProcess({ port: simPort, users: 30 });
    await waitFor('/readyz 200', async () => (await icwatch!.get('/readyz')).status === 200, 20000, 100);
    expect(JSON.parse((await icwatch.get('/readyz')).text)).to.deep.include({ status: 'ready' });
  });

  it('carries a change made in the simulator to Redis, to a WebSocket client, and into icwatch_lag_seconds', async () => {
    const client = follow(icwatch!.port);
    await new Promise((resolve) => client.once('synced', resolve));
    const metricsBefore = (await icwatch!.get('/metrics')).text;
    const [user] = await sim!.control<SimUser[]>('GET', 'users');
    const id = user!.configurationId.id;
    const changes: Array<{ id: string; data?: Record<string, unknown> }> = [];
    client.on('change', (c: { id: string; data?: Record<string, unknown> }) => changes.push(c));

    await sim!.control('POST', `users/${encodeURIComponent(id)}`, { statusText: 'Testing end to end' });

    await waitFor('the change in Redis', async () => (await redis.hget(mirrorKeys(prefix).user(id), 'statusText')) === '"Testing end to end"');
    await waitFor('the change on the WebSocket', () => changes.some((c) => c.id === id && c.data?.statusText === 'Testing end to end'));
    const metrics = (await icwatch!.get('/metrics')).text;
    for (const stage of ['redis', 'websocket']) {
      const series = `icwatch_lag_seconds_count{stage="${stage}"}`;
      expect(metricValue(metrics, series), series).to.be.greaterThan(metricValue(metricsBefore, series));
    }
    expect(metricValue(metrics, 'icwatch_changes_total{op="upsert"}')).to.be.greaterThan(0);
    expect(metricValue(metrics, 'icwatch_icws_session_up')).to.equal(1);

    const page = await icwatch!.get('/');
    expect(page.status).to.equal(200);
    expect(page.text).to.include('<title>icwatch</title>').and.to.include(id);
  });

  it('on SIGTERM deletes the subscription and the connection, closes clients with 1001 and exits 0', async () => {
    const client = follow(icwatch!.port);
    await new Promise((resolve) => client.once('synced', resolve));
    const closed = new Promise<number>((resolve) => client.once('close', (code: number) => resolve(code)));

    expect(await icwatch!.stop('SIGTERM')).to.equal(0);
    expect(await closed).to.equal(CLOSE.goingAway.code);
    const requests = await sim!.control<RequestRecord[]>('GET', 'requests');
    const deletes = requests.filter((r) => r.method === 'DELETE');
    expect(
      deletes.some((r) => /\/messaging\/subscriptions\/configuration\/users\//.test(r.path) && (r.status === 204 || r.status === 200 || r.status === 404)),
      JSON.stringify(deletes),
    ).to.equal(true);
    expect(
      deletes.some((r) => /\/connection$/.test(r.path) && r.status < 300),
      JSON.stringify(deletes),
    ).to.equal(true);
    expect(icwatch!.stdout()).to.match(/"message":"stopped"/);
  });

  it('converges after a SIGKILL and a restart: the mirror equals the simulator, seq without gaps', async () => {
    icwatch = await startIcwatch(env());
    await waitFor('/readyz 200', async () => (await icwatch!.get('/readyz')).status === 200, 20000, 100);
    expect(await icwatch.stop('SIGKILL')).to.equal('SIGKILL');

    // The directory moves on while icwatch is gone: a change, an addition, a removal.
    const users = await sim!.control<SimUser[]>('GET', 'users');
    await sim!.control('POST', `users/${encodeURIComponent(users[1]!.configurationId.id)}`, { statusText: 'Changed while icwatch was down', extension: null });
    await sim!.control('DELETE', `users/${encodeURIComponent(users[2]!.configurationId.id)}`);
    await sim!.control('PUT', 'users/newcomer', { configurationId: { id: 'newcomer', displayName: 'New Comer' }, extension: '7777' });

    icwatch = await startIcwatch(env());
    const truth = await sim!.control<SimUser[]>('GET', 'users');
    let difference = '';
    await waitFor(
      'the mirror to equal the simulator',
      async () => (difference = await mirrorDifference(redis, mirrorKeys(prefix), truth)) === '',
      20000,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${difference}`);
    });
    expect(await redis.hget(mirrorKeys(prefix).index('extension'), '7777')).to.equal('newcomer');
    const seqs = await streamSeqs(redis, mirrorKeys(prefix));
    seqs.forEach((s, i) => i && expect(s, 'seq without gaps').to.equal(seqs[i - 1]! + 1));
    expect(Number(await redis.hget(mirrorKeys(prefix).meta, 'seq'))).to.equal(seqs.at(-1));
  });
});
