/**
 * Least privilege (README "Security"): icwatch runs completely as a Redis user with exactly the ACL the README gives
 * (read from README.md here, so the two cannot drift): a leader writing the mirror from the simulator, a standby
 * that takes over when the leader releases its lease on SIGTERM, the fan-out (a WebSocket client gets the snapshot
 * and the changes), HTTP reads, and a Cluster; at the end `ACL LOG` is empty on every server.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { SimUser } from '../helpers/mirror.js';
import { waitFor } from '../helpers/net.js';
import { killAll, ROOT, startIcwatch, startSimulatorProcess, type IcwatchProcess, type SimulatorProcess } from '../helpers/processes.js';
import { startPrivateCluster, type PrivateCluster } from '../helpers/redis-topologies.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../helpers/redis.js';

const ACL_PASSWORD = 'Acl-Pw-7e21';
const SIM_PASSWORD = 'sim-acl-pw';

/** The rules of the README's "Least privilege" block for `prefix`, as ACL SETUSER arguments. */
export function readmeAcl(prefix: string, password: string): string[] {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('### Least privilege: the Redis ACL'));
  const block = /```text\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no ```text block under "Least privilege: the Redis ACL"');
  return block
    .split(/\s+/)
    .filter(Boolean)
    .map((rule) => rule.replaceAll('{icwatch:users}', `{${prefix}}`).replace(/^>PASSWORD$/, `>${password}`));
}

/** Creates the user `icwatch` with the README's rules on `admin`'s server and empties its ACL LOG. */
async function grant(admin: Redis, prefix: string): Promise<void> {
  await admin.call('ACL', 'SETUSER', 'icwatch', 'reset', ...readmeAcl(prefix, ACL_PASSWORD));
  await admin.call('ACL', 'LOG', 'RESET');
}

const aclLog = async (admin: Redis) => (await admin.call('ACL', 'LOG')) as unknown[];

/** A WebSocket client of `icwatch`'s fan-out, keeping every frame. */
function follow(icwatch: IcwatchProcess): { frames: Array<Record<string, unknown>>; close(): void } {
  const ws = new WebSocket(`ws://127.0.0.1:${icwatch.port}${DEFAULTS.websocket.path}`);
  const frames: Array<Record<string, unknown>> = [];
  ws.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString('utf8')) as Record<string, unknown>));
  ws.on('error', () => {});
  return { frames, close: () => ws.close() };
}

/** What /readyz says of the replica's leadership, and /v1/status of who leads (/readyz names no replica: README "Security"). */
async function leadership(icwatch: IcwatchProcess): Promise<{ status: number; leadership?: string; leader?: string }> {
  const res = await icwatch.get('/readyz');
  const { leadership } = JSON.parse(res.text) as { leadership?: string };
  const status = await icwatch.get('/v1/status');
  const leader = status.status === 200 ? (JSON.parse(status.text) as { readiness?: { leader?: string } }).readiness?.leader : undefined;
  return { status: res.status, leadership, leader };
}

describe('icwatch as a Redis user with exactly the README ACL', function () {
  this.timeout(240000);
  let sim: SimulatorProcess;
  before(async () => (sim = await startSimulatorProcess({ users: 6, seed: 5, password: SIM_PASSWORD })));
  after(async () => {
    killAll();
    await sim?.stop();
  });

  const env = (prefix: string, redis: Record<string, string>) => ({
    ICWATCH_ICWS_URL: sim.url,
    ICWATCH_ICWS_PASSWORD: SIM_PASSWORD,
    ICWATCH_REDIS_KEY_PREFIX: prefix,
    ...redis,
  });

  /** Changes a user's statusText in the simulator; resolves with its id. */
  async function change(statusText: string): Promise<{ id: string; extension: string }> {
    const users = await sim.control<SimUser[]>('GET', 'users');
    const user = users.find((u) => typeof u.extension === 'string' && u.extension) ?? users[0]!;
    await sim.control('POST', `users/${encodeURIComponent(user.configurationId.id)}`, { statusText });
    return { id: user.configurationId.id, extension: typeof user.extension === 'string' ? user.extension : '' };
  }

  /** The change reaches `icwatch`'s HTTP reads (by id, the list, by index) and a WebSocket client. */
  async function seen(
    icwatch: IcwatchProcess,
    client: { frames: Array<Record<string, unknown>> },
    statusText: string,
    user: { id: string; extension: string },
  ) {
    const json = JSON.stringify(statusText);
    await waitFor(
      'the change over the WebSocket',
      () => client.frames.some((f) => f.type === 'upsert' && JSON.stringify(f.data ?? {}).includes(json)),
      30000,
      100,
    );
    await waitFor('the change read by id', async () => (await icwatch.get(`/v1/users/${encodeURIComponent(user.id)}`)).text.includes(json), 30000, 100);
    const list = await icwatch.get(`/v1/users?ids=${encodeURIComponent(user.id)}&props=statusText`);
    expect(list.status).to.equal(200);
    expect(list.text).to.include(json);
    expect((await icwatch.get('/v1/users')).status).to.equal(200);
    if (user.extension) expect((await icwatch.get(`/v1/users?extension=${encodeURIComponent(user.extension)}`)).text).to.include(user.id);
    expect((await icwatch.get('/')).status).to.equal(200);
  }

  describe('standalone: leader, standby, lease release, fan-out, HTTP reads', () => {
    let redis: PrivateRedis;
    let admin: Redis;
    before(async () => {
      redis = await startPrivateRedis();
      admin = new Redis(redis.url);
    });
    after(async () => {
      admin?.disconnect();
      await redis?.destroy();
    });

    it('runs completely, and ACL LOG stays empty', async () => {
      const prefix = uniquePrefix('acl');
      await grant(admin, prefix);
      const base = env(prefix, {
        ICWATCH_REDIS_URL: `redis://icwatch:${ACL_PASSWORD}@127.0.0.1:${redis.port}`,
        // A lease far longer than the test: the standby can take over only because the leader releases it.
        ICWATCH_HA_LEASE_MS: '120000',
        ICWATCH_HA_RENEW_MS: '1000',
      });
      const a = await startIcwatch({ ...base, ICWATCH_HA_REPLICA_ID: 'acl-a' });
      await waitFor('a to lead', async () => (await leadership(a)).leadership === 'leader', 60000, 200);
      const b = await startIcwatch({ ...base, ICWATCH_HA_REPLICA_ID: 'acl-b' });
      await waitFor(
        'b to stand by, ready',
        async () => {
          const l = await leadership(b);
          return l.status === 200 && l.leadership === 'standby' && l.leader === 'acl-a';
        },
        60000,
        200,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}; b: ${(await b.get('/readyz')).text}; ACL LOG: ${JSON.stringify(await aclLog(admin))}`);
      });

      const client = follow(b);
      try {
        await waitFor('the snapshot', () => client.frames.some((f) => f.type === 'snapshot' && f.last === true), 30000, 100);
        const snapshotUsers = client.frames.filter((f) => f.type === 'snapshot').flatMap((f) => f.users as unknown[]);
        expect(snapshotUsers).to.have.length(6);
        const first = await change('Written by the leader under ACL');
        await seen(b, client, 'Written by the leader under ACL', first);

        expect(await a.stop('SIGTERM')).to.equal(0);
        await waitFor('b to take over', async () => (await leadership(b)).leadership === 'leader', 30000, 200);
        const second = await change('Written by the new leader under ACL');
        await seen(b, client, 'Written by the new leader under ACL', second);
        expect((await b.get('/v1/status')).status).to.equal(200);
      } finally {
        client.close();
        await b.stop('SIGTERM');
      }
      expect(await aclLog(admin), 'ACL LOG').to.deep.equal([]);
    });
  });

  describe('Cluster', () => {
    let cluster: PrivateCluster;
    let admins: Redis[];
    before(async () => {
      cluster = await startPrivateCluster(3);
      admins = cluster.nodes.map((n) => new Redis(Number(n.split(':')[1]), '127.0.0.1'));
    });
    after(async () => {
      for (const a of admins ?? []) a.disconnect();
      await cluster?.destroy();
    });

    it('runs completely on every node, and ACL LOG stays empty on every node', async () => {
      const prefix = uniquePrefix('acl-cluster');
      for (const admin of admins) await grant(admin, prefix);
      const icwatch = await startIcwatch(
        env(prefix, {
          ICWATCH_REDIS_MODE: 'cluster',
          ICWATCH_REDIS_NODES: cluster.nodes.join(','),
          ICWATCH_REDIS_URL: `redis://icwatch:${ACL_PASSWORD}@127.0.0.1:6379`,
        }),
      );
      const client = follow(icwatch);
      try {
        await waitFor('ready', async () => (await icwatch.get('/readyz')).status === 200, 60000, 200);
        await waitFor('the snapshot', () => client.frames.some((f) => f.type === 'snapshot' && f.last === true), 30000, 100);
        const user = await change('Written to a Cluster under ACL');
        await seen(icwatch, client, 'Written to a Cluster under ACL', user);
      } finally {
        client.close();
        await icwatch.stop('SIGTERM');
      }
      for (const [i, admin] of admins.entries()) expect(await aclLog(admin), `ACL LOG of ${cluster.nodes[i]}`).to.deep.equal([]);
    });
  });
});
