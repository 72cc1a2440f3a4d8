/**
 * README "Integrity", with real processes and real Redis: a write Redis refuses halfway (an ACL), writes lost in a
 * Sentinel failover to a replica that lagged, a change whose message was lost (repaired by the periodic
 * verification), and writes that wait for a replica (redis.waitReplicas). Each ends with the mirror equal to the
 * simulator, a WebSocket client equal to the mirror, and no (epoch, seq) seen by that client with two contents.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { difference } from '../helpers/mirror.js';
import { waitFor } from '../helpers/net.js';
import { metricValue } from '../helpers/processes.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { startPrivateSentinel, type PrivateSentinel } from '../helpers/redis-topologies.js';
import { leakedSecrets, SECRETS, Stack } from './harness.js';
import { SeqRecorder } from './seq-recorder.js';

const ACL_PASSWORD = 'Acl-Pa55-integrity-41c9';
const REPL_PASSWORD = 'Repl-Pa55-integrity-77d0';

/** The verdict every test ends with. */
async function verdict(stack: Stack, recorder: SeqRecorder, secrets: string[] = []): Promise<void> {
  await stack.converged(60000);
  expect(recorder.problems, 'an (epoch, seq) seen with two contents').to.deep.equal([]);
  expect(leakedSecrets(stack.output(), [...stack.sim.control.issuedCredentials(), ...secrets])).to.deep.equal([]);
}

const metric = async (stack: Stack, series: string) => metricValue((await stack.icwatch.get('/metrics')).text, series);

async function info(redis: Redis, section: string, field: string): Promise<string | undefined> {
  return (await redis.info(section)).match(new RegExp(`^${field}:(.*)\\r?$`, 'm'))?.[1];
}

function client(port: number, user?: { name: string; password: string }): Redis {
  const r = new Redis({
    host: '127.0.0.1',
    port,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 100,
    ...(user ? { username: user.name, password: user.password } : {}),
  });
  r.on('error', () => {});
  return r;
}

/** A replica of `master` that authenticates as the ACL user `repl` (so that the master can shut it out). */
async function startReplica(master: PrivateRedis): Promise<{ replica: PrivateRedis; admin: Redis }> {
  const admin = client(master.port);
  await admin.acl('SETUSER', 'repl', 'on', `>${REPL_PASSWORD}`, '~*', '&*', '+@all');
  const replica = await startPrivateRedis({
    args: ['--replicaof', '127.0.0.1', String(master.port), '--masteruser', 'repl', '--masterauth', REPL_PASSWORD],
  });
  const r = client(replica.port);
  await waitFor('the replica in sync', async () => (await info(r, 'replication', 'master_link_status')) === 'up', 20000, 100);
  r.disconnect();
  return { replica, admin };
}

describe('chaos: integrity (nothing lost, nothing wedged)', function () {
  this.timeout(180000);

  describe('a write Redis refuses halfway (an ACL user lacking HDEL)', () => {
    let stack: Stack;
    after(async () => stack?.close());

    it('/readyz names NOPERM; once granted, icwatch converges by itself within 10 s under a new epoch', async () => {
      stack = await Stack.start({
        users: 200,
        prepare: async (redis, reader) => {
          await reader.acl('SETUSER', 'icwatch', 'on', `>${ACL_PASSWORD}`, '~*', '&*', '+@all');
          return { ICWATCH_REDIS_URL: `redis://icwatch:${ACL_PASSWORD}@127.0.0.1:${redis.port}` };
        },
      });
      const recorder = new SeqRecorder(stack.follower);
      await stack.converged();
      const epoch = await stack.reader.hget(stack.keys.meta, 'epoch');

      await stack.reader.acl('SETUSER', 'icwatch', '-hdel');
      // A delta that clears a property: the apply script's HDEL is refused after its first write.
      const target = stack.sim.control.users().find((u) => u.statusText !== undefined)!;
      stack.sim.control.setProperties(target.configurationId.id, { statusText: null, extension: '99999' });
      const body = await waitFor(
        '/readyz to name NOPERM',
        async () => {
          const r = await stack.icwatch.get('/readyz');
          return r.status === 503 && r.text.includes('NOPERM') ? r.text : undefined;
        },
        30000,
        100,
      );
      expect(JSON.parse(body).reason).to.match(/Redis refused the write: NOPERM/);
      stack.sim.control.churn(10);

      await stack.reader.acl('SETUSER', 'icwatch', '+hdel');
      const granted = Date.now();
      await waitFor(
        'the mirror to converge under a new epoch',
        async () => {
          const meta = await stack.reader.hgetall(stack.keys.meta);
          if (meta.epoch === epoch || meta.writing !== '0') return false;
          return difference(stack.truth(), await stack.mirror()) === undefined;
        },
        10000,
        100,
      );
      const tookMs = Date.now() - granted;
      await verdict(stack, recorder, [ACL_PASSWORD]);
      await waitFor('readyz 200', async () => (await stack.icwatch.get('/readyz')).status === 200, 20000, 100);
      expect(await metric(stack, 'icwatch_full_syncs_total{reason="incomplete-write"}')).to.be.greaterThan(0);
      expect(recorder.resets, 'the client reset for the new epoch').to.be.greaterThan(0);
      expect(tookMs).to.be.lessThan(10000);
    });
  });

  describe('lost writes: a Sentinel failover to a replica that lagged', () => {
    let stack: Stack | undefined;
    let sentinel: PrivateSentinel | undefined;
    let master: PrivateRedis | undefined;
    let replica: PrivateRedis | undefined;
    let admin: Redis | undefined;
    after(async () => {
      await stack?.close();
      admin?.disconnect();
      await sentinel?.destroy();
      await replica?.destroy();
      await master?.destroy();
    });

    it('icwatch notices the loss, starts a new epoch, re-syncs from ICWS, and the client resets and converges', async () => {
      master = await startPrivateRedis();
      ({ replica, admin } = await startReplica(master));
      sentinel = await startPrivateSentinel(master.port, 'icw', { downAfterMs: 1000, failoverTimeoutMs: 5000 });
      const [sentinelHost, sentinelPort] = sentinel.node.split(':') as [string, string];
      const askSentinel = client(Number(sentinelPort));
      // Sentinel learns the replicas from the master's INFO, every 10 s.
      await waitFor(
        'the Sentinel to know the replica',
        async () => JSON.stringify(await askSentinel.call('SENTINEL', 'REPLICAS', 'icw')).includes(String(replica!.port)),
        30000,
        200,
      );
      const reader = new Redis({
        sentinels: [{ host: sentinelHost, port: Number(sentinelPort) }],
        name: 'icw',
        maxRetriesPerRequest: 1,
        retryStrategy: () => 100,
        sentinelRetryStrategy: () => 100,
      });
      const env = { ICWATCH_REDIS_MODE: 'sentinel', ICWATCH_REDIS_NODES: sentinel.node, ICWATCH_REDIS_SENTINEL_NAME: 'icw' };
      const topology = { redis: { ...master, destroy: async () => {} }, reader, env };
      stack = await Stack.start({ users: 200, topology });
      const recorder = new SeqRecorder(stack.follower);
      await stack.converged();
      const epoch = await reader.hget(stack.keys.meta, 'epoch');

      // The replica can no longer log in to the master: it lags, and the master acknowledges writes all the same.
      await admin.acl('SETUSER', 'repl', 'off');
      await admin.client('KILL', 'USER', 'repl');
      const lagging = client(replica.port);
      await waitFor('the replica cut off', async () => (await info(lagging, 'replication', 'master_link_status')) === 'down', 10000, 50);
      const replicaSeq = Number(await lagging.hget(stack.keys.meta, 'seq'));
      stack.sim.control.churn(30);
      await waitFor(
        'icwatch to commit on the master, and the client to see it',
        async () => Number(await admin!.hget(stack!.keys.meta, 'seq')) >= replicaSeq + 20 && (stack!.follower.seq ?? 0) >= replicaSeq + 20,
        20000,
        50,
      );
      expect(Number(await lagging.hget(stack.keys.meta, 'seq'))).to.equal(replicaSeq);

      await master.kill();
      await waitFor(
        'the Sentinel to promote the replica',
        async () => (await askSentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'icw'))?.toString().includes(String(replica!.port)),
        30000,
        200,
      );
      stack.sim.control.churn(10);
      await verdict(stack, recorder);
      expect(await reader.hget(stack.keys.meta, 'epoch')).to.not.equal(epoch);
      expect(stack.output()).to.include('Redis lost writes this writer had committed');
      expect(await metric(stack, 'icwatch_full_syncs_total{reason="lost-writes"}')).to.equal(1);
      expect(recorder.resets, 'the client reset').to.be.greaterThan(0);
      lagging.disconnect();
      askSentinel.disconnect();
    });
  });

  describe('verification: a change whose message was lost', () => {
    let stack: Stack;
    after(async () => stack?.close());

    it('is repaired at the next verification and counted once', async () => {
      stack = await Stack.start({ users: 200, env: { ICWATCH_SUBSCRIPTION_VERIFY_INTERVAL_MS: '3000' } });
      const recorder = new SeqRecorder(stack.follower);
      await stack.converged();
      await waitFor('a first verification', async () => (await metric(stack, 'icwatch_full_syncs_total{reason="verify"}')) >= 1, 30000, 200);
      expect(await metric(stack, 'icwatch_verify_differences_total')).to.equal(0);

      const id = stack.sim.control.users()[5]!.configurationId.id;
      stack.sim.control.setPropertiesSilently(id, { statusText: 'changed, message lost' });
      await stack.converged(30000);
      const verifications = await metric(stack, 'icwatch_full_syncs_total{reason="verify"}');
      await waitFor('one more verification', async () => (await metric(stack, 'icwatch_full_syncs_total{reason="verify"}')) > verifications, 30000, 200);
      expect(await metric(stack, 'icwatch_verify_differences_total')).to.equal(1);
      expect(stack.output()).to.match(new RegExp(`verification: the mirror differed from ICWS in 1 change.*users: ${id}`));
      const status = JSON.parse((await stack.icwatch.get(`/v1/status?access_token=${SECRETS.token}`)).text) as { verifiedAt?: number };
      expect(status.verifiedAt).to.be.closeTo(Date.now(), 10000);
      await verdict(stack, recorder);
    });
  });

  describe('redis.waitReplicas: 1 with a real replica', () => {
    let stack: Stack | undefined;
    let replica: PrivateRedis | undefined;
    let admin: Redis | undefined;
    after(async () => {
      await stack?.close();
      admin?.disconnect();
      await replica?.destroy();
    });

    it('every write waits for the replica; with the replica stopped, writes go on and are counted', async () => {
      const master = await startPrivateRedis({ persist: true });
      ({ replica, admin } = await startReplica(master));
      const reader = client(master.port);
      stack = await Stack.start({
        users: 200,
        topology: { redis: master, reader, env: { ICWATCH_REDIS_URL: master.url } },
        env: { ICWATCH_REDIS_WAIT_REPLICAS: '1', ICWATCH_REDIS_WAIT_TIMEOUT_MS: '300' },
      });
      const recorder = new SeqRecorder(stack.follower);
      await stack.converged();
      stack.sim.control.churn(40);
      await stack.converged();
      const applies = await metric(stack, 'icwatch_redis_apply_duration_seconds_count');
      const waits = Number((await info(admin, 'commandstats', 'cmdstat_wait'))?.match(/calls=(\d+)/)?.[1] ?? 0);
      expect(applies).to.be.greaterThan(0);
      expect(waits, 'a WAIT for every apply round trip').to.be.at.least(applies);
      expect(await metric(stack, 'icwatch_redis_unreplicated_writes_total')).to.equal(0);
      const onReplica = client(replica.port);
      expect(await onReplica.hget(stack.keys.meta, 'seq')).to.equal(await reader.hget(stack.keys.meta, 'seq'));
      onReplica.disconnect();

      await replica.stop();
      stack.sim.control.churn(20);
      await verdict(stack, recorder);
      // The writes after the stop are counted (the count reaches /metrics through the worker a moment later).
      await waitFor('unreplicated writes counted', async () => (await metric(stack!, 'icwatch_redis_unreplicated_writes_total')) > 0, 15000, 200);
      expect(stack.output()).to.include('was not acknowledged by 1 replica(s) within 300 ms');
    });
  });
});
