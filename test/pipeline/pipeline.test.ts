/**
 * The whole message path in-process: a real IcwsUsersFeed against the simulator, usersPipeline, a MirrorWriter on
 * real Redis. Cold: nothing is sent to ICWS until the pipeline is subscribed, and a late subscriber still gets every
 * message: the first commit is the full replace, the mirror ends equal to the simulator, the stream is gap-free.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { Subscription } from 'rxjs';
import { IcwsUsersFeed } from '../../src/icws/users-feed.js';
import { silentLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import type { CommittedBatch } from '../../src/mirror/types.js';
import { MirrorWriter } from '../../src/mirror/writer.js';
import { usersPipeline } from '../../src/pipeline/pipeline.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { difference, readMirror, subscribedUsers } from '../helpers/mirror.js';
import { testConfig } from '../icws/harness.js';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { DEFAULTS } from '../../src/config/defaults.js';

describe('pipeline: feed → usersPipeline → mirror writer', function () {
  this.timeout(30000);
  let sim: Simulator;
  let redis: Redis;
  let prefix: string;
  let run: Subscription | undefined;
  let feed: IcwsUsersFeed;

  beforeEach(async () => {
    sim = await startSimulator({ users: 25, seed: 11 });
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('pipeline');
  });
  afterEach(async () => {
    await feed?.stop();
    run?.unsubscribe();
    await sim.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  function build() {
    const metrics = new Metrics({ defaultMetrics: false });
    const logger = silentLogger();
    const config = testConfig(sim.url);
    feed = new IcwsUsersFeed(config, { metrics, logger });
    const r = DEFAULTS.redis;
    const writer = new MirrorWriter({ ...r, redis, keyPrefix: prefix, metrics, logger });
    return usersPipeline(feed, writer, { maxPendingMessages: r.maxPendingMessages, redis, metrics, logger });
  }

  it('is cold: nothing reaches ICWS before it is subscribed, and a late subscriber gets every message', async () => {
    const committed$ = build();
    // Changes happen while nobody listens; a hot bus would have lost whatever came meanwhile.
    const [a, b] = sim.control.users();
    expect(a && b).to.not.equal(undefined);
    sim.control.setProperties(a!.configurationId.id, { statusText: 'before anyone listened' });
    sim.control.removeUser(b!.configurationId.id);
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.control.requests, 'requests before subscribing').to.deep.equal([]);

    const batches: CommittedBatch[] = [];
    run = committed$.subscribe((batch) => batches.push(batch));
    await waitFor('the full replace', () => batches.length > 0);
    expect(batches[0]!.fromSeq).to.equal(1);
    for (let i = 0; i < 20; i++) sim.control.churn(1);
    const keys = mirrorKeys(prefix);
    await waitFor('the mirror equal to the simulator', async () => !difference(subscribedUsers(sim.control.users()), await readMirror(redis, keys)), 10000);
    // Gap-free: every batch starts right after the previous one.
    batches.forEach((batch, i) => i && expect(batch.fromSeq).to.equal(batches[i - 1]!.toSeq + 1));
    expect(Number(await redis.hget(keys.meta, 'seq'))).to.equal(batches.at(-1)!.toSeq);
    expect((await readMirror(redis, keys)).has(b!.configurationId.id), 'the user removed before anyone listened').to.equal(false);
  });

  it('completes once the feed is stopped and what it delivered is written', async () => {
    const committed$ = build();
    let completed = false;
    run = committed$.subscribe({ complete: () => (completed = true) });
    await waitFor('a session', () => feed.state.type === 'up');
    await feed.stop();
    await waitFor('completion', () => completed);
    expect(sim.control.requests.map((r) => `${r.method} ${r.name}`)).to.include.members(['DELETE subscription', 'DELETE connection']);
  });
});
