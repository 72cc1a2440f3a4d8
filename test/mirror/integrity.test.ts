/**
 * README "Integrity": a write Redis refuses halfway never wedges the mirror, writes Redis lost are noticed, each write
 * may wait for replicas, and a periodic full replace verifies the mirror. Real Redis: a private server where an ACL
 * or meta is changed under the writer, the shared one otherwise.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startPrivateRedis, SHARED_REDIS_URL, uniquePrefix, dropPrefix, type PrivateRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/net.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { entryIds } from '../../src/mirror/verification.js';
import { ChunkBuilder } from '../../src/mirror/chunk-builder.js';
import { MirrorState } from '../../src/mirror/state.js';
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

describe('mirror integrity', function () {
  this.timeout(60000);
  let server: PrivateRedis | undefined;
  let redis: Redis | undefined;
  let admin: Redis | undefined;
  let mirror: RunningMirror | undefined;

  /** A prefix of the shared Redis (tests that change no server setting), dropped after the test. */
  let prefix: string | undefined;
  const shared = () => {
    const db = (redis = connect(SHARED_REDIS_URL));
    return { db, prefix: (prefix = uniquePrefix('integrity')) };
  };

  afterEach(async () => {
    await mirror?.drain(1000);
    if (prefix && redis) await dropPrefix(redis, prefix);
    prefix = undefined;
    redis?.disconnect();
    admin?.disconnect();
    await server?.destroy();
    mirror = redis = admin = server = undefined;
  });

  const connect = (url: string) => {
    const r = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    r.on('error', () => {});
    return r;
  };

  it('a write refused halfway (NOPERM) starts a new epoch once Redis accepts writes again, and a full replace converges', async () => {
    server = await startPrivateRedis();
    admin = connect(server.url);
    await admin.acl('SETUSER', 'writer', 'on', '>writer-pass', '~*', '&*', '+@all');
    redis = connect(`redis://writer:writer-pass@127.0.0.1:${server.port}`);
    const truth = new Map([
      ['a', { extension: '1', statusText: 'in' }],
      ['b', { extension: '2', statusText: 'out' }],
    ]);
    const asked: string[] = [];
    const h: Harness = await startMirror(redis, PREFIX, {
      onResync: (reason) => {
        asked.push(reason);
        h.source.next(
          replace(
            [...truth].map(([id, p]) => user(id, p)),
            { syncReason: reason as 'incomplete-write' },
          ),
        );
      },
    });
    mirror = h.mirror;
    await h.apply(replace([...truth].map(([id, p]) => user(id, p))));
    const { epoch } = h.mirror.status();

    await admin.acl('SETUSER', 'writer', '-hdel');
    // a sets a property and clears another: the HSET lands, the HDEL is refused, the script stops halfway.
    h.source.next(delta({ changed: [user('a', { extension: '11', statusText: null })] }));
    truth.set('a', { extension: '11' } as { extension: string; statusText: string });
    await waitFor('the refusal', () => h.mirror.status().refused !== undefined);
    expect(h.mirror.status().refused).to.match(/^Redis refused the write: .*NOPERM/);
    expect(h.mirror.status().redisUp).to.equal(true);
    // Left by the refused script (each retry's load starts a new epoch, which clears it, and the write sets it again).
    await waitFor('the marker of a write that failed halfway', async () => (await admin!.hget(mirrorKeys(PREFIX).meta, 'writing')) === '1');

    await admin.acl('SETUSER', 'writer', '+hdel');
    await waitFor('the new epoch and its full replace', async () => (await metricValue(h.metrics, 'fullSyncs', { reason: 'incomplete-write' })) >= 1, 20000);
    await waitIdle(h.metrics);
    const v = await readMirrorView(redis, PREFIX);
    expect(asked[0]).to.equal('incomplete-write');
    expect(v.meta.epoch).to.not.equal(epoch);
    expect(v.meta.writing).to.equal('0');
    expect(v.users).to.deep.equal({
      a: { configurationId: user('a').configurationId, extension: '11' },
      b: { configurationId: user('b').configurationId, extension: '2', statusText: 'out' },
    });
    expect(h.mirror.status()).to.include({ synced: true, epoch: v.meta.epoch });
    expect(h.mirror.status().refused).to.equal(undefined);
    expectGapFree(v.changes);
    expect(v.meta.seq).to.equal(String(v.changes.length));
  });

  it('a stream ahead of meta seq (a write that failed before the marker existed) is healed the same way, not retried forever', async () => {
    const { db, prefix } = shared();
    const asked: string[] = [];
    let users = [user('a', { extension: '1' })];
    const h: Harness = await startMirror(db, prefix, {
      onResync: (reason) => {
        asked.push(reason);
        h.source.next(replace(users, { syncReason: reason as 'incomplete-write' }));
      },
    });
    mirror = h.mirror;
    await h.apply(replace(users));
    const k = mirrorKeys(prefix);
    await db.xadd(k.changes, '2-0', 'seq', '2', 'op', 'remove', 'id', 'a', 'at', '0');
    users = [user('a', { extension: '1', statusText: 'x' })];
    await h.apply(delta({ changed: [user('a', { statusText: 'x' })] }));
    await waitFor('the resync', () => asked.length === 1);
    await waitIdle(h.metrics);
    const v = await readMirrorView(db, prefix);
    expect(asked).to.deep.equal(['incomplete-write']);
    expect(v.changes.map((c) => c.seq)).to.deep.equal([1]);
    expect(v.users.a).to.include({ statusText: 'x', extension: '1' });
  });

  it('Redis behind what this writer committed in the same epoch: a new epoch and a full replace, never a reused seq', async () => {
    const { db, prefix } = shared();
    const k = mirrorKeys(prefix);
    const truth = new Map([['a', { statusText: 's0' }]]);
    const asked: string[] = [];
    const h: Harness = await startMirror(db, prefix, {
      onResync: (reason) => {
        asked.push(reason);
        h.source.next(
          replace(
            [...truth].map(([id, p]) => user(id, p)),
            { syncReason: reason as 'lost-writes' },
          ),
        );
      },
    });
    mirror = h.mirror;
    await h.apply(replace([...truth].map(([id, p]) => user(id, p))));
    for (let i = 1; i <= 3; i++) {
      truth.set('a', { statusText: `s${i}` });
      await h.apply(delta({ changed: [user('a', { statusText: `s${i}` })] }));
    }
    const { epoch, seq } = h.mirror.status();
    expect(seq).to.equal(4);
    // What a failover to a replica two writes behind leaves: seq 2, the stream up to 2, the user as of seq 2.
    await db.hset(k.meta, 'seq', '2');
    await db.xtrim(k.changes, 'MINID', '0');
    await db.xdel(k.changes, '3-0', '4-0');
    await db.hset(k.user('a'), 'statusText', '"s1"');
    truth.set('a', { statusText: 's4' });
    await h.apply(delta({ changed: [user('a', { statusText: 's4' })] }));
    await waitFor('the full replace', async () => (await metricValue(h.metrics, 'fullSyncs', { reason: 'lost-writes' })) === 1);
    await waitIdle(h.metrics);
    const v = await readMirrorView(db, prefix);
    expect(asked).to.deep.equal(['lost-writes']);
    expect(v.meta.epoch).to.not.equal(epoch);
    expect(v.users.a).to.include({ statusText: 's4' });
    expectGapFree(v.changes);
    expect(replay(v.changes).a ?? {}).to.include({ statusText: 's4' });
  });

  it('a new writer (a new leader, a restart) has no committed seq: it takes the mirror as it is', async () => {
    const { db, prefix } = shared();
    const h1 = await startMirror(db, prefix);
    await h1.apply(replace([user('a')]), delta({ changed: [user('a', { statusText: 'x' })] }));
    const { epoch } = h1.mirror.status();
    await h1.mirror.drain(1000);
    await db.hset(mirrorKeys(prefix).meta, 'seq', '1');
    await db.xdel(mirrorKeys(prefix).changes, '2-0');
    const h2 = await startMirror(db, prefix);
    mirror = h2.mirror;
    expect(h2.mirror.status()).to.include({ epoch, seq: 1 });
  });

  it('redis.waitReplicas with no replica: every write goes on after waitTimeoutMs and is counted', async () => {
    const { db, prefix } = shared();
    const h = await startMirror(db, prefix, { replicaWait: { replicas: 1, timeoutMs: 50 } });
    mirror = h.mirror;
    await h.apply(replace([user('a'), user('b')]));
    await h.apply(delta({ changed: [user('a', { statusText: 'x' })] }));
    const v = await readMirrorView(db, prefix);
    expect(v.users.a).to.include({ statusText: 'x' });
    expect(await metricValue(h.metrics, 'redisUnreplicatedWrites')).to.equal(2);
  });

  it('verification: the pipeline asks a full replace every verifyIntervalMs; its differences are counted and verifiedAt kept', async () => {
    const { db, prefix } = shared();
    const truth = new Map([
      ['a', { statusText: 'in' }],
      ['b', { statusText: 'in' }],
    ]);
    const h: Harness = await startMirror(db, prefix, {
      verifyIntervalMs: 300,
      onResync: (reason) =>
        h.source.next(
          replace(
            [...truth].map(([id, p]) => user(id, p)),
            { syncReason: reason as 'verify' },
          ),
        ),
    });
    mirror = h.mirror;
    await h.apply(replace([...truth].map(([id, p]) => user(id, p))));
    await waitFor('a verification', async () => (await metricValue(h.metrics, 'fullSyncs', { reason: 'verify' })) >= 1);
    expect(await metricValue(h.metrics, 'verifyDifferences')).to.equal(0);
    // A change whose message was lost.
    truth.set('b', { statusText: 'out' });
    const before = await metricValue(h.metrics, 'fullSyncs', { reason: 'verify' });
    await waitFor('the next verification', async () => (await metricValue(h.metrics, 'fullSyncs', { reason: 'verify' })) >= before + 2);
    expect(await metricValue(h.metrics, 'verifyDifferences')).to.equal(1);
    const v = await readMirrorView(db, prefix);
    expect(v.users.b).to.include({ statusText: 'out' });
    expect(Number(v.meta.verifiedAt)).to.be.closeTo(Date.now(), 5000);
    expect(h.mirror.status().verifiedAt).to.be.a('number');
  });

  it('entryIds names the users of a chunk, whatever the entry shape', () => {
    const state = new MirrorState([]);
    const b = new ChunkBuilder();
    state.setExact(b, { kind: 'checked', id: 'n1', props: new Map([['statusText', '"x"']]) });
    state.setExact(b, { kind: 'checked', id: 'n2', props: new Map([['we"ird', '"x"']]) });
    state.merge(b, { kind: 'checked', id: 'n1', props: new Map([['statusText', null]]) });
    state.remove(b, 'n2');
    expect(entryIds(b, 20)).to.deep.equal(['n1', 'n2', 'n1', 'n2']);
    expect(entryIds(b, 3)).to.deep.equal(['n1', 'n2', 'n1']);
  });
});
