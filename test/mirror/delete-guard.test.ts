/**
 * The delete guard (README "Mass deletions are held"): a message that would remove too many users is applied without
 * those removals; the users stay, held in {P}:held with {P}:held:info, until ICWS shows them again or the operator
 * applies or discards the hold (`icwatch removals`, carried out by the writer in order with the messages). Real Redis.
 */
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { removalsCommand } from '../../src/cli/removals.js';
import { createLogger, silentLogger } from '../../src/log/logger.js';
import { heldRequests$ } from '../../src/mirror/held-requests.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import type { DeleteGuardLimits } from '../../src/mirror/held.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { delta, expectGapFree, metricValue, readMirrorView, replace, replay, startMirror, user, type Harness, type RunningMirror } from './fixtures.js';

const GUARD: DeleteGuardLimits = { maxRemovals: 500, maxFraction: 0.2, minUsers: 50 };
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `u${String(from + i).padStart(5, '0')}`);
const users = (list: string[]) => list.map((id) => user(id, { extension: id.slice(1) }));

describe('mirror: the delete guard holds mass removals', function () {
  this.timeout(60000);
  let redis: Redis;
  let prefix: string;
  let logs: string[];
  const mirrors: RunningMirror[] = [];
  const subscribers: Redis[] = [];
  let dir: string;

  const start = async (guard: DeleteGuardLimits | undefined = GUARD, withRequests = false): Promise<Harness> => {
    const stream = new PassThrough();
    stream.setEncoding('utf8').on('data', (line: string) => logs.push(line));
    const logger = createLogger({ stream, level: 'info' });
    const subscriber = () => {
      const s = new Redis(SHARED_REDIS_URL);
      subscribers.push(s);
      return s;
    };
    const h = await startMirror(redis, prefix, {
      logger,
      deleteGuard: guard,
      ...(withRequests ? { heldRequests$: heldRequests$(redis, subscriber, prefix, silentLogger()) } : {}),
    });
    mirrors.push(h.mirror);
    return h;
  };
  const k = () => mirrorKeys(prefix);
  const heldIds = async () => (await redis.smembers(k().held)).sort();
  const errors = () => logs.filter((l) => l.includes('"level":"error"'));
  /** `icwatch removals …` in this process, against the shared Redis under this test's prefix. */
  const removals = async (opts: Parameters<typeof removalsCommand>[0], url = SHARED_REDIS_URL) => {
    const file = join(dir, 'icwatch.yaml');
    writeFileSync(file, `redis:\n  url: ${url}\n  keyPrefix: "${prefix}"\n`);
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: new PassThrough().on('data', (d: Buffer) => (stdout += String(d))),
      stderr: new PassThrough().on('data', (d: Buffer) => (stderr += String(d))),
    };
    const code = await removalsCommand({ config: file, ...opts }, io);
    return { code, stdout, stderr };
  };

  beforeEach(() => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('guard');
    logs = [];
    dir = mkdtempSync(join(tmpdir(), 'icwatch-guard-'));
  });
  afterEach(async () => {
    for (const m of mirrors.splice(0)) await m.drain(1000);
    for (const s of subscribers.splice(0)) s.disconnect();
    await dropPrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a full replace removing 80 % of 1,000 users removes nobody; the hold is in Redis, the gauge and the log, and survives a reload', async () => {
    const h = await start();
    const all = ids(1000);
    await h.apply(replace(users(all)));
    const kept = all.slice(0, 200);
    // The replace also changes one kept user: that part is applied.
    await h.apply(replace([...users(kept.slice(1)), user(kept[0]!, { extension: 'changed' })]));
    const v = await readMirrorView(redis, prefix);
    expect(v.ids).to.have.length(1000);
    expect(v.meta).to.include({ users: '1000', seq: '1001', syncing: '0' });
    expect(v.changes.at(-1)).to.deep.include({ op: 'upsert', id: kept[0], data: { extension: 'changed' } });
    expect(await heldIds()).to.deep.equal(all.slice(200));
    const info = await redis.hgetall(k().heldInfo);
    expect(info).to.include({ count: '800', removals: '800', users: '1000', origin: 'full replace' });
    expect(info.why).to.equal("a full replace would remove 800 of the mirror's 1000 users: more than mirror.deleteGuard.maxRemovals (500)");
    expect(Number(info.since)).to.be.closeTo(Date.now(), 60000);
    expect(await metricValue(h.metrics, 'removalsHeld')).to.equal(800);
    expect(h.mirror.status().removalsHeld).to.equal(800);
    expect(errors()).to.have.length(1);
    expect(errors()[0]).to.include('held 800 removals').and.include('"removals":800').and.include('"users":1000');

    // The same replace again: the hold stays, no new error line; the removal of one more user is not past the bounds.
    await h.apply(replace(users(kept.slice(0, 199))));
    expect(await heldIds()).to.deep.equal(all.slice(200));
    expect((await readMirrorView(redis, prefix)).changes.at(-1)).to.deep.include({ op: 'remove', id: kept[199] });
    expect(errors()).to.have.length(1);
    expect(logs.some((l) => l.includes('still omits 800'))).to.equal(true);

    // A writer started afresh (a restart, another leader) knows the hold from Redis.
    await mirrors.pop()!.drain(1000);
    const again = await start();
    expect(again.mirror.status().removalsHeld).to.equal(800);
    expect(await metricValue(again.metrics, 'removalsHeld')).to.equal(800);
    await again.apply(replace(users(kept.slice(0, 199))));
    expect((await redis.hgetall(k().heldInfo)).count).to.equal('800');
    expect(await redis.scard(k().ids)).to.equal(999);
  });

  it('held users leave the hold when ICWS shows them again: a delta changing one, a full replace bringing them back; removing one again changes nothing', async () => {
    const h = await start();
    const all = ids(100);
    await h.apply(replace(users(all)));
    await h.apply(replace(users(all.slice(0, 50))));
    expect(await heldIds()).to.have.length(50);
    const seq = Number(await redis.hget(k().meta, 'seq'));
    // A delta removing a held user: it stays held, and nothing is written.
    await h.apply(delta({ removed: [all[60]] }));
    expect(await heldIds()).to.include(all[60]);
    expect(Number(await redis.hget(k().meta, 'seq'))).to.equal(seq);
    // A delta changing a held user: it is shown, so it is no longer held.
    await h.apply(delta({ changed: [{ configurationId: { id: all[70] }, statusText: 'Back' }] }));
    expect(await heldIds())
      .to.have.length(49)
      .and.not.include(all[70]);
    expect(await redis.hget(k().heldInfo, 'count')).to.equal('49');
    // A full replace with 40 of them back: 9 stay held (under the bounds, but only the operator removes held users).
    await h.apply(replace(users([...all.slice(0, 50), ...all.slice(50, 90)])));
    expect(await heldIds()).to.deep.equal(all.slice(91, 100).concat(all[90]!).sort());
    // Every one back: the hold is gone, Redis keys and gauge included.
    await h.apply(replace(users(all)));
    expect(await redis.exists(k().held, k().heldInfo)).to.equal(0);
    expect(await metricValue(h.metrics, 'removalsHeld')).to.equal(0);
    const v = await readMirrorView(redis, prefix);
    expect(v.ids).to.have.length(100);
    expectGapFree(v.changes);
    expect(replay(v.changes)).to.deep.equal(v.users);
  });

  it('a delta removing 600 of 5,000 at once is held; its adds and changes are applied, and seq stays gap-free', async () => {
    const h = await start();
    const all = ids(5000);
    await h.apply(replace(users(all)));
    await h.apply(
      delta({
        added: users(['n00001']),
        changed: [{ configurationId: { id: all[0] }, statusText: 'Away' }],
        removed: all.slice(1000, 1600),
      }),
    );
    const v = await readMirrorView(redis, prefix);
    expect(v.ids).to.have.length(5001);
    expect(v.changes.slice(-2).map((c) => [c.op, c.id])).to.deep.equal([
      ['upsert', 'n00001'],
      ['upsert', all[0]],
    ]);
    expectGapFree(v.changes);
    expect(await heldIds()).to.deep.equal(all.slice(1000, 1600));
    expect(await redis.hgetall(k().heldInfo)).to.include({ origin: 'delta', removals: '600', users: '5000', count: '600' });
    // A delta removing fewer is applied as usual.
    await h.apply(delta({ removed: all.slice(2000, 2100) }));
    expect(await redis.scard(k().ids)).to.equal(4901);
  });

  it('the fraction bound: 30 of 100 is held, 30 of 40 is not (mirrors under minUsers); maxRemovals 0 turns the guard off', async () => {
    let h = await start();
    await h.apply(replace(users(ids(100))));
    await h.apply(replace(users(ids(70))));
    expect(await redis.scard(k().held)).to.equal(30);
    expect(await redis.hget(k().heldInfo, 'why')).to.include('maxFraction (0.2)');
    await mirrors.pop()!.drain(1000);
    await dropPrefix(redis, prefix);

    h = await start();
    await h.apply(replace(users(ids(40))));
    await h.apply(replace(users(ids(10))));
    expect(await redis.scard(k().ids)).to.equal(10);
    expect(await redis.exists(k().held)).to.equal(0);
    await mirrors.pop()!.drain(1000);
    await dropPrefix(redis, prefix);

    logs = [];
    h = await start({ ...GUARD, maxRemovals: 0 });
    await h.apply(replace(users(ids(1000))));
    await h.apply(replace(users(ids(200))));
    await h.apply(delta({ removed: ids(150) }));
    expect(await redis.scard(k().ids)).to.equal(50);
    expect(await redis.exists(k().held)).to.equal(0);
    expect(errors()).to.deep.equal([]);
  });

  it('icwatch removals --list prints the hold; --apply has the writer remove the held users as ordinary remove entries, gap-free', async () => {
    const h = await start(GUARD, true);
    const all = ids(1000);
    await h.apply(replace(users(all)));
    expect((await removals({ list: true })).stdout).to.equal('no removals are held\n');
    await h.apply(replace(users(all.slice(0, 200))));
    const listed = await removals({ list: true });
    expect(listed.code).to.equal(0);
    expect(listed.stdout).to.match(/^800 removals held since \d{4}-\d\d-\d\dT/);
    expect(listed.stdout).to.include("why: a full replace would remove 800 of the mirror's 1000 users");
    expect(listed.stdout.trim().split('\n').slice(-800)).to.deep.equal(all.slice(200));
    const seq = Number(await redis.hget(k().meta, 'seq'));

    const applied = await removals({ apply: true, timeout: 20000 });
    expect(applied.stderr).to.equal('');
    expect(applied.code).to.equal(0);
    expect(applied.stdout).to.include('applied: the leader removed the 800 held users');
    const v = await readMirrorView(redis, prefix);
    expect(v.ids).to.deep.equal(all.slice(0, 200));
    const removes = v.changes.filter((c) => c.seq > seq);
    expect(removes.map((c) => c.op)).to.deep.equal(Array(800).fill('remove'));
    expect(removes.map((c) => c.id).sort()).to.deep.equal(all.slice(200));
    expectGapFree(v.changes);
    expect(v.meta.seq).to.equal(String(seq + 800));
    expect(await redis.exists(k().held, k().heldInfo)).to.equal(0);
    expect(await metricValue(h.metrics, 'removalsHeld')).to.equal(0);
    expect(replay(v.changes)).to.deep.equal(v.users);
  });

  it('icwatch removals --discard drops the hold and keeps the users; with no leader a request is withdrawn after --timeout, exit 1', async () => {
    const h = await start(GUARD, true);
    const all = ids(1000);
    await h.apply(replace(users(all)));
    await h.apply(replace(users(all.slice(0, 200))));
    const seq = await redis.hget(k().meta, 'seq');
    const discarded = await removals({ discard: true, timeout: 20000 });
    expect(discarded.code).to.equal(0);
    expect(discarded.stdout).to.include('discarded: the 800 users stay in the mirror');
    expect(await redis.exists(k().held, k().heldInfo)).to.equal(0);
    expect(await redis.scard(k().ids)).to.equal(1000);
    expect(await redis.hget(k().meta, 'seq')).to.equal(seq);
    expect(h.mirror.status().removalsHeld).to.equal(0);
    // Discarded means no longer judged: the next replace omitting them holds them again, as a new mass removal.
    await h.apply(replace(users(all.slice(0, 200))));
    expect(await redis.scard(k().held)).to.equal(800);

    // No writer reads requests any more.
    await mirrors.pop()!.drain(1000);
    const t0 = Date.now();
    const orphan = await removals({ apply: true, timeout: 1000 });
    expect(orphan.code).to.equal(1);
    expect(orphan.stderr).to.include('no icwatch leader took the request within 1 s').and.include('withdrawn; nothing changed');
    expect(Date.now() - t0).to.be.lessThan(15000);
    expect(await redis.hget(k().heldInfo, 'request')).to.equal(null);
    expect(await redis.scard(k().held)).to.equal(800);
    // Usage: one action at a time.
    expect((await removals({ apply: true, discard: true })).code).to.equal(2);
    const unreachable = await removals({ list: true }, 'redis://127.0.0.1:1');
    expect(unreachable.code).to.equal(1);
    expect(unreachable.stderr).to.include('cannot reach Redis at redis://127.0.0.1:1');
  });
});
