/**
 * redis.mode cluster: the whole mirror lives in one slot (the {prefix} hash tag), so the apply scripts, the change
 * stream and the fan-out work on a Redis Cluster as on one server.
 */
import { expect } from 'chai';
import { Cluster } from 'ioredis';
import { FanoutClient } from '../../src/fanout/client.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { difference, type Props } from '../chaos/harness.js';
import { startPrivateCluster, type PrivateCluster } from '../helpers/redis-cluster.js';
import { waitFor } from '../helpers/net.js';
import { uniquePrefix } from '../helpers/redis.js';
import { killAll, startIcwatch, type IcwatchProcess } from './processes.js';

describe('daemon on a Redis Cluster', function () {
  this.timeout(60000);
  let cluster: PrivateCluster;
  let sim: Simulator;
  let icwatch: IcwatchProcess;
  let reader: Cluster;
  let follower: FanoutClient;
  const prefix = uniquePrefix('cluster');
  const keys = mirrorKeys(prefix);

  before(async () => {
    cluster = await startPrivateCluster(3);
    sim = await startSimulator({ users: 150, seed: 5, password: 'cluster-pw' });
    reader = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
  });
  after(async () => {
    await follower?.stop();
    await icwatch?.stop('SIGTERM');
    killAll();
    reader?.disconnect();
    await sim?.close();
    await cluster?.destroy();
  });

  it('mirrors the directory, streams the changes gap-free and serves WebSocket clients', async () => {
    icwatch = await startIcwatch({
      ICWATCH_ICWS_URL: sim.url,
      ICWATCH_ICWS_PASSWORD: 'cluster-pw',
      ICWATCH_REDIS_MODE: 'cluster',
      ICWATCH_REDIS_NODES: cluster.nodes.join(','),
      ICWATCH_REDIS_KEY_PREFIX: prefix,
    });
    follower = new FanoutClient({ url: `ws://127.0.0.1:${icwatch.port}/v1/users` }).start();
    follower.on('error', () => {});
    await waitFor('the first full sync', async () => (await icwatch.get('/readyz')).status === 200, 30000, 100);
    sim.control.churn(60);

    const truth = () => {
      const out = new Map<string, Props>();
      for (const u of sim.control.users()) {
        const p: Props = {};
        for (const k of ['configurationId', 'extension', 'statusText', 'personalInformationProperties', 'workgroups', 'skills', 'lastModifiedDate']) if (u[k] !== undefined) p[k] = u[k];
        out.set(u.configurationId.id, p);
      }
      return out;
    };
    const mirror = async () => {
      const out = new Map<string, Props>();
      for (const id of await reader.smembers(keys.ids)) {
        const hash = await reader.hgetall(keys.user(id));
        out.set(id, Object.fromEntries(Object.entries(hash).map(([k, v]) => [k, JSON.parse(v)])));
      }
      return out;
    };
    await waitFor('the mirror to equal the simulator', async () => !difference(truth(), await mirror()), 30000, 200);
    const seq = Number(await reader.hget(keys.meta, 'seq'));
    const seqs = (await reader.xrange(keys.changes, '-', '+')).map(([id]) => Number(id.split('-')[0]));
    expect(seqs).to.deep.equal(Array.from({ length: seq }, (_, i) => i + 1));
    await waitFor('the follower at the mirror seq', () => follower.seq === seq, 20000);
    expect(difference(await mirror(), follower.users)).to.equal(undefined);
    const withExtension = sim.control.users().find((u) => typeof u.extension === 'string')!;
    expect(await reader.hget(keys.index('extension'), withExtension.extension as string)).to.equal(withExtension.configurationId.id);
  });
});
