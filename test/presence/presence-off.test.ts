/** presence.enabled false: the users directory alone, as before presence existed — no status subscription, keys or entries. */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { startSimulator } from '../../src/simulator/index.js';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { startPresenceDaemon } from './harness.js';

describe('presence.enabled false', function () {
  this.timeout(30000);

  it('subscribes to no statuses and writes no status key, catalogue or status entry', async () => {
    const sim = await startSimulator({ users: 100, seed: 3 });
    const redis = new Redis(SHARED_REDIS_URL);
    const prefix = uniquePrefix('presence-off');
    const { daemon } = await startPresenceDaemon(sim, prefix, (config) => (config.presence.enabled = false));
    try {
      const keys = mirrorKeys(prefix);
      await waitFor('the users', async () => ((await redis.scard(keys.ids)) === 100 ? true : undefined), 20000);
      sim.control.statusChurn(50);
      const id = sim.control.users()[0]!.configurationId.id;
      sim.control.setProperties(id, { extension: '5151' });
      await waitFor('a user change', async () => ((await redis.hget(keys.user(id), 'extension')) === '"5151"' ? true : undefined));
      const names = await redis.keys(`{${prefix}}:*`);
      expect(names.filter((k) => k.includes(':status'))).to.deep.equal([]);
      const ops = (await redis.xrange(keys.changes, '-', '+')).map(([, f]) => f[f.indexOf('op') + 1]);
      expect(new Set(ops)).to.deep.equal(new Set(['upsert']));
      expect(sim.control.statusSubscriptionPuts()).to.deep.equal([]);
      expect(sim.control.requests.filter((r) => r.path.includes('status'))).to.deep.equal([]);
    } finally {
      await daemon.stop('test');
      await sim.close();
      await dropPrefix(redis, prefix);
      await redis.quit();
    }
  });
});
