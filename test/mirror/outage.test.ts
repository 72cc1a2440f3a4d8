/** Redis going away under the mirror: stopped mid-stream (with and without its data coming back), SCRIPT FLUSH aside. */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/net.js';
import {
  delta,
  expectGapFree,
  metricValue,
  readMirrorView,
  replace,
  replay,
  startMirror,
  user,
  waitIdle,
  type Harness,
  type RunningMirror,
} from './fixtures.js';

const PREFIX = 'icwatch:users';
const USERS = 20;

describe('mirror: Redis unavailable', function () {
  this.timeout(60000);
  let server: PrivateRedis | undefined;
  let redis: Redis | undefined;
  let mirror: RunningMirror | undefined;

  afterEach(async () => {
    await mirror?.drain(1000);
    redis?.disconnect();
    await server?.destroy();
    mirror = redis = server = undefined;
  });

  const connect = (url: string) => {
    // Fail commands fast while the server is down so that the mirror's own retry (with backoff) is what is tested.
    const r = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    r.on('error', () => {});
    return r;
  };

  /** Push deltas every few ms, starting `during` after a third of them; returns the final statusText per user. */
  async function stream(push: (m: ReturnType<typeof delta>) => void, count: number, during: () => Promise<void>): Promise<Record<string, string>> {
    const expected: Record<string, string> = {};
    let fault: Promise<void> | undefined;
    for (let i = 0; i < count; i++) {
      const id = `u${i % USERS}`;
      expected[id] = `s${i}`;
      push(delta({ changed: [user(id, { statusText: `s${i}` })] }));
      if (i === Math.floor(count / 3)) fault = during();
      await new Promise((r) => setTimeout(r, 3));
    }
    await fault;
    return expected;
  }

  it('pauses while Redis is stopped, retries with backoff, and converges gap-free when it returns with its data', async () => {
    server = await startPrivateRedis({ persist: true });
    redis = connect(server.url);
    const h = await startMirror(redis, PREFIX);
    mirror = h.mirror;
    await h.apply(replace(Array.from({ length: USERS }, (_, i) => user(`u${i}`, { extension: String(i) }))));
    const { epoch } = h.mirror.status();
    let sawDown = false;
    const expected = await stream(
      (m) => h.source.next(m),
      300,
      async () => {
        await server!.stop();
        await waitFor('the mirror to see Redis down', () => !h.mirror.status().redisUp);
        sawDown = true;
        await new Promise((r) => setTimeout(r, 300));
        await server!.start();
      },
    );
    await waitIdle(h.metrics, 30000);
    const v = await readMirrorView(redis, PREFIX);
    expect(sawDown).to.equal(true);
    expect(await metricValue(h.metrics, 'redisErrors')).to.be.greaterThan(0);
    expect(h.mirror.status()).to.include({ redisUp: true, epoch });
    expect(Object.fromEntries(Object.entries(v.users).map(([id, u]) => [id, u.statusText]))).to.deep.equal(expected);
    expectGapFree(v.changes);
    expect(replay(v.changes)).to.deep.equal(v.users);
    expect(v.meta.seq).to.equal(String(v.changes.length));
  });

  it('starts a new epoch when Redis comes back empty, asks the session for a full replace and converges on it', async () => {
    server = await startPrivateRedis({ persist: false });
    redis = connect(server.url);
    // The truth the ICWS server holds: what its full replace carries when the mirror asks for one.
    const truth = new Map(Array.from({ length: USERS }, (_, i) => [`u${i}`, { extension: String(i) }]));
    let asked = 0;
    const h: Harness = await startMirror(redis, PREFIX, {
      onMirrorLost: () => {
        asked++;
        h.source.next(
          replace(
            [...truth].map(([id, props]) => user(id, props)),
            { syncReason: 'redis' },
          ),
        );
      },
    });
    mirror = h.mirror;
    await h.apply(replace([...truth].map(([id, props]) => user(id, props))));
    const { epoch } = h.mirror.status();
    const expected = await stream(
      (m) => {
        for (const u of m.message.changed ?? []) Object.assign(truth.get(u.configurationId.id)!, { statusText: u.statusText });
        h.source.next(m);
      },
      100,
      async () => {
        await server!.stop();
        await server!.start();
      },
    );
    await waitFor('the full replace', async () => (await metricValue(h.metrics, 'fullSyncs', { reason: 'redis' })) === 1);
    await waitIdle(h.metrics, 30000);
    const v = await readMirrorView(redis, PREFIX);
    expect(asked).to.equal(1);
    expect(v.meta.epoch).to.not.equal(epoch);
    expect(h.mirror.status()).to.include({ epoch: v.meta.epoch, synced: true });
    expect(Object.fromEntries(Object.entries(v.users).map(([id, u]) => [id, u.statusText]))).to.deep.equal(expected);
    expect(v.index).to.deep.equal(Object.fromEntries(Array.from({ length: USERS }, (_, i) => [String(i), `u${i}`])));
    expectGapFree(v.changes);
    expect(replay(v.changes)).to.deep.equal(v.users);
  });

  it('notices an emptied Redis on reconnect even when no message comes', async () => {
    server = await startPrivateRedis({ persist: false });
    redis = connect(server.url);
    const users = [user('a', { extension: '1' }), user('b')];
    const h: Harness = await startMirror(redis, PREFIX, { onMirrorLost: () => h.source.next(replace(users, { syncReason: 'redis' })) });
    mirror = h.mirror;
    await h.apply(replace(users));
    await server.stop();
    await server.start();
    await waitFor('the rewrite', async () => (await readMirrorView(redis!, PREFIX)).ids.length === 2);
    const v = await readMirrorView(redis, PREFIX);
    expect(v.changes.map((c) => `${c.seq}:${c.id}`)).to.deep.equal(['1:a', '2:b']);
  });
});
