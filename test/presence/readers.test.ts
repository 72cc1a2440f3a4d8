/**
 * Presence through the readers, end to end in-process: the simulator, the real stages, the real Redis, and the real
 * icwatch/client. A client's map (users and statuses) equals the mirror at each seq it stands at, through churn of
 * users and statuses; `GET /v1/workgroups` and `/v1/workgroups/<id>` count what the simulator's truth says; the
 * client's `available()` and `workgroups()` say the same.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { IcwatchClient } from '../../src/client/index.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { difference, readMirrorWithStatuses } from '../helpers/mirror.js';
import { startPresenceDaemon } from './harness.js';

const USERS = 400;
const AVAILABLE_IDS = new Set(['available', 'available, no acd', 'available, remote']);

interface WorkgroupCount {
  id: string;
  agents: number;
  loggedIn: number;
  available: number;
  onPhone: number;
}

/** The workgroup counts the simulator's truth gives. */
function truthOf(sim: Simulator): Map<string, WorkgroupCount> {
  const statuses = new Map(sim.control.statuses().map((s) => [s.userId, s]));
  const out = new Map<string, WorkgroupCount>();
  for (const user of sim.control.users()) {
    const s = statuses.get(user.configurationId.id);
    for (const w of (user.workgroups as { id: string }[] | undefined) ?? []) {
      const c = out.get(w.id) ?? { id: w.id, agents: 0, loggedIn: 0, available: 0, onPhone: 0 };
      c.agents++;
      if (s?.loggedIn === true) c.loggedIn++;
      if (s?.onPhone === true) c.onPhone++;
      if (s?.loggedIn === true && s.onPhone !== true && AVAILABLE_IDS.has(s.statusId.toLowerCase())) c.available++;
      out.set(w.id, c);
    }
  }
  return out;
}

describe('presence through the readers (client, /v1/workgroups)', function () {
  this.timeout(60000);
  let sim: Simulator;
  let redis: Redis;
  let prefix: string;
  let daemon: Daemon;
  let client: IcwatchClient;
  let base: string;

  before(async () => {
    sim = await startSimulator({ users: USERS, seed: 11 });
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('presence-read');
    ({ daemon } = await startPresenceDaemon(sim, prefix));
    base = `http://127.0.0.1:${daemon.httpPort}`;
    client = new IcwatchClient({ url: `ws://127.0.0.1:${daemon.httpPort}/v1/users`, reconnect: false });
    client.start();
  });
  after(async () => {
    await client?.stop();
    await daemon?.stop('test');
    await sim?.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  const keys = () => mirrorKeys(prefix);
  /** Waits until the mirror holds every status of the simulator and the client stands at the mirror's seq. */
  async function settled(): Promise<number> {
    return waitFor(
      'the client at the mirror seq, every status mirrored',
      async () => {
        const seq = Number(await redis.hget(keys().meta, 'seq'));
        const statuses = await redis.keys(`{${prefix}}:status:*`);
        if (statuses.length !== sim.control.statuses().length || client.seq !== seq) return undefined;
        const again = Number(await redis.hget(keys().meta, 'seq'));
        return again === seq ? seq : undefined;
      },
      20000,
    );
  }

  it("keeps the client's users and statuses equal to the mirror's at each seq it stands at, through churn", async () => {
    for (let round = 0; round < 4; round++) {
      // The mirror is read in several round trips: a change landing meanwhile (a status put after the churn's adds
      // can come late) means reading it again, at the seq it then settles at.
      const { seq, mirror } = await waitFor(
        'the mirror read whole at one seq, the client standing at it',
        async () => {
          const at = await settled();
          const read = await readMirrorWithStatuses(redis, keys());
          const still = Number(await redis.hget(keys().meta, 'seq')) === at && client.seq === at;
          return still ? { seq: at, mirror: read } : undefined;
        },
        30000,
      );
      expect(difference(mirror, client.users), `round ${round} at seq ${seq}`).to.equal(undefined);
      sim.control.statusChurn(200);
      sim.control.churn(20);
    }
  });

  it('counts GET /v1/workgroups and /v1/workgroups/<id> as the simulator truth does, at one seq; the client agrees', async () => {
    await settled();
    const truth = truthOf(sim);
    const all = (await (await fetch(`${base}/v1/workgroups`)).json()) as { seq: number; workgroups: WorkgroupCount[] };
    expect(new Map(all.workgroups.map((w) => [w.id, w]))).to.deep.equal(truth);
    const support = (await (await fetch(`${base}/v1/workgroups/Support`)).json()) as {
      seq: number;
      id: string;
      agents: { id: string; status?: { available?: boolean } }[];
    };
    expect(support.seq).to.equal(all.seq);
    expect(support.agents.length).to.equal(truth.get('Support')!.agents);
    expect(support.agents.filter((a) => a.status?.available === true).length).to.equal(truth.get('Support')!.available);
    expect((await fetch(`${base}/v1/workgroups/NoSuchGroup`)).status).to.equal(404);
    expect(new Map(client.workgroups().map((w: WorkgroupCount) => [w.id, w]))).to.deep.equal(truth);
    expect(client.available('Support').length).to.equal(truth.get('Support')!.available);
  });

  it('emits a status event for a change made at the simulator, and drops the status of a removed user', async () => {
    await settled();
    const [user] = sim.control.users();
    const id = user!.configurationId.id;
    const events: unknown[] = [];
    client.on('status', (e: unknown) => events.push(e));
    sim.control.setStatus(id, { statusId: 'At Lunch' });
    await waitFor('the status event', () => (events.length ? true : undefined));
    expect((client.get(id)!.status as { statusId: string }).statusId).to.equal('At Lunch');
    sim.control.removeUser(id);
    await waitFor('the user gone from the client', () => (client.get(id) === undefined ? true : undefined));
    expect(await redis.exists(keys().status(id))).to.equal(0);
  });
});
