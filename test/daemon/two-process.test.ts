/**
 * Issue 4's two-process case: one `all` icwatch (ICWS session + mirror + fan-out) and one `fanout` icwatch serving
 * the same mirror; their WebSocket clients receive the same change sequence.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { IcwatchClient } from '../../src/client/index.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import type { SimUser } from '../helpers/mirror.js';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { killAll, startIcwatch, startSimulatorProcess, type IcwatchProcess, type SimulatorProcess } from '../helpers/processes.js';

type Change = { op: string; seq: number; id: string; data?: Record<string, unknown> };

describe('icwatch all + icwatch fanout on one mirror', function () {
  this.timeout(60000);
  let redis: Redis;
  let prefix: string;
  let sim: SimulatorProcess;
  const processes: IcwatchProcess[] = [];
  const clients: IcwatchClient[] = [];

  before(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('two');
    sim = await startSimulatorProcess({ users: 25, seed: 4 });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await sim.stop();
    killAll();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('sends identical change sequences to clients of either process', async () => {
    const common = { ICWATCH_REDIS_URL: SHARED_REDIS_URL, ICWATCH_REDIS_KEY_PREFIX: prefix, ICWATCH_ICWS_URL: sim.url, ICWATCH_ICWS_PASSWORD: 'icwatch' };
    const [all, fanout] = await Promise.all([startIcwatch({ ...common, ICWATCH_ROLE: 'all' }), startIcwatch({ ...common, ICWATCH_ROLE: 'fanout' })]);
    processes.push(all, fanout);
    await waitFor('the all process ready', async () => (await all.get('/readyz')).status === 200, 20000, 100);
    await waitFor('the fanout process ready', async () => (await fanout.get('/readyz')).status === 200, 20000, 100);

    const received = new Map<IcwatchClient, Change[]>();
    for (const p of [all, fanout]) {
      const c = new IcwatchClient({ url: `ws://127.0.0.1:${p.port}/v1/users`, reconnect: false });
      clients.push(c);
      received.set(c, []);
      c.on('change', (change: Change) =>
        received.get(c)!.push({ op: change.op, seq: change.seq, id: change.id, ...(change.data ? { data: change.data } : {}) }),
      );
      // Status frames (presence) are changes of the same sequence.
      c.on('status', (s: { seq: number; id: string; data: Record<string, unknown> }) =>
        received.get(c)!.push({ op: 'status', seq: s.seq, id: s.id, data: s.data }),
      );
      c.start();
      await new Promise((resolve) => c.once('synced', resolve));
    }
    const start = Number(await redis.hget(mirrorKeys(prefix).meta, 'seq'));

    const users = await sim.control<SimUser[]>('GET', 'users');
    for (let i = 0; i < 8; i++) {
      await sim.control('POST', `users/${encodeURIComponent(users[i]!.configurationId.id)}`, { statusText: `round ${i}` });
    }
    await sim.control('DELETE', `users/${encodeURIComponent(users[9]!.configurationId.id)}`);
    await sim.control('POST', 'churn', { count: 20 });

    await waitFor('the changes in the mirror', async () => Number(await redis.hget(mirrorKeys(prefix).meta, 'seq')) >= start + 9);
    // Quiet: the simulator has no background churn, so the last seq is final once the mirror stops moving.
    let last = -1;
    await waitFor(
      'the mirror to settle',
      async () => {
        const seq = Number(await redis.hget(mirrorKeys(prefix).meta, 'seq'));
        const settled = seq === last;
        last = seq;
        return settled;
      },
      10000,
      300,
    );
    await waitFor('both clients at the last seq', () => clients.every((c) => c.seq === last));

    const [a, b] = clients.map((c) => received.get(c)!.filter((ch) => ch.seq > start));
    expect(a!.length).to.equal(last - start);
    expect(a).to.deep.equal(b);
    expect(a!.map((ch) => ch.seq)).to.deep.equal(Array.from({ length: last - start }, (_, i) => start + 1 + i));
    expect(a!.some((ch) => ch.op === 'remove' && ch.id === users[9]!.configurationId.id)).to.equal(true);
    const state = (c: IcwatchClient) => [...c.users.entries()].sort(([x], [y]) => x.localeCompare(y));
    expect(state(clients[0]!)).to.deep.equal(state(clients[1]!));
  });
});
