/** The fan-out fed by the real Mirror: clients that join at any point end equal to Redis, without gaps. */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { delta, replace, startMirror, user } from '../mirror/fixtures.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { startHarness, type Harness } from './harness.js';
import { readMirror } from '../helpers/mirror.js';
import { plain, seeded } from './layout.js';

describe('fanout: fed by the real mirror', function () {
  let redis: Redis;
  let prefix: string;
  let h: Harness;
  let stopMirror: () => Promise<void>;

  beforeEach(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('fanout-e2e');
  });

  afterEach(async () => {
    await h.close();
    await stopMirror();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('clients joining before, during and after a storm of deltas hold what Redis holds', async () => {
    const m = await startMirror(redis, prefix);
    stopMirror = () => m.mirror.drain(1000);
    h = await startHarness(redis, prefix);
    const sub = m.mirror.committed$.subscribe((b) => h.fanout.notifyCommitted(b));
    const early = h.client();
    await m.apply(replace(Array.from({ length: 60 }, (_, i) => user(`u${i}`, { extension: String(2000 + i), statusText: 'Available' }))));
    const gaps: number[] = [];
    early.on('gap', (want: number) => gaps.push(want));
    const rand = seeded(3);
    const late = [];
    for (let i = 0; i < 120; i++) {
      const id = `u${Math.floor(rand() * 70)}`;
      const r = rand();
      const msg =
        r < 0.1
          ? delta({ removed: [id] })
          : r < 0.3
            ? delta({ added: [user(id, { extension: String(3000 + i) })] })
            : delta({ changed: [user(id, { statusText: `s${i % 7}` })] });
      m.source.next(msg);
      if (i % 40 === 0) {
        const c = h.client();
        c.on('gap', (want: number) => gaps.push(want));
        late.push(c);
      }
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await m.apply();
    const seq = Number(await redis.hget(mirrorKeys(prefix).meta, 'seq'));
    const expected = plain(await readMirror(redis, mirrorKeys(prefix)));
    for (const c of [early, ...late]) {
      await waitFor(`client at seq ${seq}`, () => c.seq === seq);
      expect(plain(c.users)).to.deep.equal(expected);
    }
    expect(gaps).to.deep.equal([]);
    const lag = (await h.metrics.lag.get()).values.find((v) => v.metricName === 'icwatch_lag_seconds_count' && v.labels.stage === 'websocket');
    expect(lag?.value ?? 0).to.be.greaterThan(0);
    sub.unsubscribe();
  });
});
