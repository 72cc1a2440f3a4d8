/**
 * The lease scripts and the fence check of the apply script, on real Redis: one holder at a time, compare-and-renew,
 * release only by the holder, and a write carrying a stale fence refused without touching the mirror.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { LeaseStore } from '../../src/ha/lease.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { startMirror, replace, user, delta } from '../mirror/fixtures.js';
import { MirrorStore } from '../../src/mirror/store.js';
import { MirrorFencedError } from '../../src/mirror/write-errors.js';

describe('ha: the leader lease and the fence', function () {
  this.timeout(20000);
  let redis: Redis;
  let prefix: string;
  beforeEach(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('lease');
  });
  afterEach(async () => {
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('gives the lease to one replica at a time, each takeover with a new fence', async () => {
    const keys = mirrorKeys(prefix);
    const a = new LeaseStore(redis, keys, 'replica-a', 10000);
    const b = new LeaseStore(redis, keys, 'replica-b', 10000);
    const first = await a.acquire();
    expect(first).to.deep.equal({ kind: 'acquired', fence: 1 });
    const other = await b.acquire();
    expect(other).to.include({ kind: 'taken', holder: 'replica-a' });
    expect((other as { remainingMs: number }).remainingMs).to.be.within(1, 10000);
    expect(await redis.get(keys.leader)).to.equal('replica-a');
    expect(await redis.pttl(keys.leader)).to.be.within(1, 10000);

    expect(await b.release(1), 'a standby cannot release the leader').to.equal(false);
    expect(await a.renew(1)).to.deep.equal({ kind: 'renewed' });
    expect(await a.release(1)).to.equal(true);
    expect(await redis.exists(keys.leader)).to.equal(0);
    expect(await b.acquire()).to.deep.equal({ kind: 'acquired', fence: 2 });
    expect(await redis.hget(keys.meta, 'fence')).to.equal('2');
    expect(await a.renew(1)).to.deep.equal({ kind: 'lost', holder: 'replica-b', fence: '2' });
  });

  it('lets a lease expire: the next replica takes it over with the next fence; the old holder cannot renew', async () => {
    const keys = mirrorKeys(prefix);
    const a = new LeaseStore(redis, keys, 'replica-a', 150);
    const b = new LeaseStore(redis, keys, 'replica-b', 150);
    expect(await a.acquire()).to.deep.equal({ kind: 'acquired', fence: 1 });
    await new Promise((r) => setTimeout(r, 250));
    expect(await b.acquire()).to.deep.equal({ kind: 'acquired', fence: 2 });
    expect(await a.renew(1)).to.include({ kind: 'lost', holder: 'replica-b' });
    expect(await a.release(1)).to.equal(false);
    expect(await redis.get(keys.leader)).to.equal('replica-b');
  });

  it('a replica restarted with the same ha.replicaId takes its own lease over under a new fence', async () => {
    const keys = mirrorKeys(prefix);
    expect(await new LeaseStore(redis, keys, 'pod-0', 10000).acquire()).to.deep.equal({ kind: 'acquired', fence: 1 });
    expect(await new LeaseStore(redis, keys, 'pod-0', 10000).acquire()).to.deep.equal({ kind: 'acquired', fence: 2 });
  });

  it("the apply script refuses a write whose fence is not meta's, and writes nothing", async () => {
    const keys = mirrorKeys(prefix);
    const lease = new LeaseStore(redis, keys, 'replica-a', 10000);
    const { fence } = (await lease.acquire()) as { fence: number };
    const h = await startMirror(redis, prefix, { fence });
    await h.apply(replace([user('jdoe', { extension: '2222' }), user('asmith', { extension: '3333' })]));
    const before = await redis.hgetall(keys.meta);
    expect(before.seq).to.equal('2');

    // Another replica takes over (fence 2): this writer's next write must not land.
    await redis.del(keys.leader);
    await new LeaseStore(redis, keys, 'replica-b', 10000).acquire();
    const stale = new MirrorStore(redis, keys, fence);
    const reply = await stale.apply({ epoch: before.epoch!, seq: 2, maxlen: 1000, now: Date.now(), meta: [], indexArgs: ['0'], entryArgs: ['r', 'jdoe'] });
    expect(reply).to.deep.equal({ kind: 'fenced', fence: '2' });
    expect(await redis.sismember(keys.ids, 'jdoe')).to.equal(1);
    expect(await redis.xlen(keys.changes)).to.equal(2);

    // Through the pipeline: the refused write ends it with MirrorFencedError (never retried), and writes nothing.
    const h2 = await startMirror(redis, prefix, { fence });
    h2.source.next(delta({ removed: ['asmith'] }));
    const ended = await h2.mirror.done.then(
      () => 'completed',
      (err: unknown) => err,
    );
    expect(ended).to.be.instanceOf(MirrorFencedError);
    expect((ended as MirrorFencedError).currentFence).to.equal('2');
    expect(await redis.hgetall(keys.meta)).to.include({ seq: '2', fence: '2' });
    expect(await redis.exists(keys.user('asmith'))).to.equal(1);
    await h.mirror.drain(0);
    await h2.mirror.drain(0);
  });

  it('an unfenced writer (ha.enabled false) is not checked', async () => {
    const h = await startMirror(redis, prefix);
    await h.apply(replace([user('jdoe', { extension: '2222' })]));
    expect(await redis.hget(mirrorKeys(prefix).meta, 'seq')).to.equal('1');
    await h.mirror.drain(0);
  });
});
