/**
 * redis.mode cluster and sentinel: the whole mirror lives in one slot (the {prefix} hash tag), so the apply scripts,
 * the change stream and the fan-out work on a Redis Cluster as on one server; through Sentinel icwatch finds the
 * master by name. Each mode: mirror = simulator, change stream gap-free, index right, WebSocket follower = mirror.
 */
import { expect } from 'chai';
import { Cluster, Redis } from 'ioredis';
import { IcwatchClient } from '../../src/client/index.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { difference, readMirror, readMirrorWithStatuses, subscribedUsers } from '../helpers/mirror.js';
import { waitFor } from '../helpers/net.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../helpers/redis.js';
import { startPrivateCluster, startPrivateSentinel, type PrivateCluster, type PrivateSentinel } from '../helpers/redis-topologies.js';
import { killAll, startIcwatch, type IcwatchProcess } from '../helpers/processes.js';

const PASSWORD = 'modes-pw';

/** Runs icwatch with `env` against a fresh simulator and checks what a reader (`reader`) and a follower see. */
async function mirrorsAndServes(env: Record<string, string>, reader: Redis | Cluster, cleanups: (() => Promise<unknown>)[]): Promise<void> {
  const sim: Simulator = await startSimulator({ users: 150, seed: 5, password: PASSWORD });
  cleanups.push(() => sim.close());
  const prefix = uniquePrefix('modes');
  const keys = mirrorKeys(prefix);
  const icwatch: IcwatchProcess = await startIcwatch({ ICWATCH_ICWS_URL: sim.url, ICWATCH_ICWS_PASSWORD: PASSWORD, ICWATCH_REDIS_KEY_PREFIX: prefix, ...env });
  cleanups.push(() => icwatch.stop('SIGTERM'));
  const follower = new IcwatchClient({ url: `ws://127.0.0.1:${icwatch.port}/v1/users` }).start();
  follower.on('error', () => {});
  cleanups.push(() => follower.stop());
  await waitFor('the first full sync', async () => (await icwatch.get('/readyz')).status === 200, 30000, 100);
  sim.control.churn(60);

  const truth = () => subscribedUsers(sim.control.users());
  const mirror = () => readMirror(reader, keys);
  // Settled: the mirror equals the simulator at a seq that did not move while it was read, and the follower holds
  // exactly that. Read again on each try, so a change still on its way moves the target instead of failing.
  const seq = await waitFor(
    'the mirror to equal the simulator and the follower the mirror',
    async () => {
      const before = Number(await reader.hget(keys.meta, 'seq'));
      const held = await mirror();
      const after = Number(await reader.hget(keys.meta, 'seq'));
      const problem =
        before !== after
          ? `the mirror moved from seq ${before} to ${after} while read`
          : (difference(truth(), held) ??
            (follower.seq !== after
              ? `the follower at seq ${follower.seq}, the mirror at ${after}`
              : difference(await readMirrorWithStatuses(reader, keys), follower.users)));
      if (problem) throw new Error(problem);
      return after;
    },
    30000,
    200,
  );
  // Gap-free from 1 through the settled seq at least: entries may follow it (with presence the status subscription is
  // put again after the churn's adds and removes, and its statuses may land after the mirror looked settled).
  const seqs = (await reader.xrange(keys.changes, '-', '+')).map(([id]) => Number(id.split('-')[0]));
  expect(seqs.length).to.be.at.least(seq);
  expect(seqs).to.deep.equal(Array.from({ length: seqs.length }, (_, i) => i + 1));
  const withExtension = sim.control.users().find((u) => typeof u.extension === 'string')!;
  expect(await reader.hget(keys.index('extension'), withExtension.extension as string)).to.equal(withExtension.configurationId.id);
}

describe('daemon on other Redis topologies', function () {
  this.timeout(60000);
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    cleanups.length = 0;
    killAll();
  });

  it('redis.mode cluster: a private 3-node cluster', async () => {
    const cluster: PrivateCluster = await startPrivateCluster(3);
    cleanups.push(() => cluster.destroy());
    const reader = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
    cleanups.push(async () => reader.disconnect());
    await mirrorsAndServes({ ICWATCH_REDIS_MODE: 'cluster', ICWATCH_REDIS_NODES: cluster.nodes.join(',') }, reader, cleanups);
  });

  it('redis.mode sentinel: the master found by name through a Sentinel', async () => {
    const master: PrivateRedis = await startPrivateRedis();
    cleanups.push(() => master.destroy());
    const sentinel: PrivateSentinel = await startPrivateSentinel(master.port, 'icwatch-master');
    cleanups.push(() => sentinel.destroy());
    const reader = new Redis(master.url);
    cleanups.push(() => reader.quit());
    // redis.url stays at its default (the shared server): the mirror showing up on the private master proves that
    // icwatch asked the Sentinel for it.
    await mirrorsAndServes(
      { ICWATCH_REDIS_MODE: 'sentinel', ICWATCH_REDIS_NODES: sentinel.node, ICWATCH_REDIS_SENTINEL_NAME: 'icwatch-master' },
      reader,
      cleanups,
    );
  });
});
