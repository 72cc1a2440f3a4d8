/** The mirror's rules (README "The Redis mirror"), each read back from real Redis the way a reader reads it. */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import type { CommittedBatch } from '../../src/mirror/types.js';
import {
  delta,
  expectGapFree,
  metricValue,
  readMirrorView,
  replace,
  streamedReplace,
  replay,
  startMirror,
  user,
  waitIdle,
  type Harness,
  type RunningMirror,
} from './fixtures.js';

describe('mirror: Redis layout and semantics', function () {
  let redis: Redis;
  let prefix: string;
  const mirrors: RunningMirror[] = [];

  const start = async (over: Parameters<typeof startMirror>[2] = {}): Promise<Harness> => {
    const h = await startMirror(redis, prefix, over);
    mirrors.push(h.mirror);
    return h;
  };

  beforeEach(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('mirror');
  });
  afterEach(async () => {
    for (const m of mirrors.splice(0)) await m.drain(1000);
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('writes users as JSON-valued hashes, the ids set, the index, meta and gap-free stream entries <seq>-0', async () => {
    const h = await start();
    const sub = new Redis(SHARED_REDIS_URL);
    const published: string[] = [];
    await sub.subscribe(mirrorKeys(prefix).notify);
    sub.on('message', (_c, m) => published.push(m));
    await h.apply(
      replace([
        user('jdoe', { extension: '2222', statusText: 'Available', skills: { effectiveValue: [{ proficiency: 5 }] }, cost: 3 }),
        user('asmith', { extension: '3333' }),
      ]),
    );
    const v = await readMirrorView(redis, prefix);
    expect(v.ids).to.deep.equal(['asmith', 'jdoe']);
    expect(v.raw.jdoe!.extension).to.equal('"2222"');
    expect(v.raw.jdoe!.cost).to.equal('3');
    expect(v.raw.jdoe!.skills).to.equal('{"effectiveValue":[{"proficiency":5}]}');
    expect(JSON.parse(v.raw.jdoe!.configurationId!)).to.deep.equal({ id: 'jdoe', displayName: 'JDOE', uri: '/configuration/users/jdoe' });
    expect(v.index).to.deep.equal({ '2222': 'jdoe', '3333': 'asmith' });
    expect(v.meta).to.include({ seq: '2', users: '2', syncing: '0', subscriptionId: 'icwatch', icServer: 'ic1' });
    expect(v.meta.epoch).to.match(/^[0-9a-f]{16}$/);
    expect(Number(v.meta.syncedAt)).to.be.closeTo(Date.now(), 60000);
    expect(Number(v.meta.lastChangeAt)).to.be.closeTo(Date.now(), 60000);
    expect(v.changeIds).to.deep.equal(['1-0', '2-0']);
    expect(v.changes[0]).to.include({ op: 'upsert', seq: 1, id: 'jdoe' });
    expect(replay(v.changes)).to.deep.equal(v.users);
    expect(Number(v.changes[0]!.at)).to.be.closeTo(Date.now(), 60000);
    await waitFor('the notify publish of seq 2', () => published.includes('2'), 2000, 5);
    await sub.quit();
  });

  it('writes change data that parses back exactly, whatever the property names and values', async () => {
    const h = await start();
    const odd = { 'we"ird\\name': 'a/b', ünï: { deep: ['x', 1.5, true, null] }, notes: 'line\nbreak "quoted" </script>' };
    // 'sep' is a plain-named new user whose values hold U+001F, the separator of packed new users.
    const sep = { notes: 'a\u001fb', statusText: '\u001f' };
    await h.apply(replace([user('plain', { extension: '1' }), user('odd', odd), user('sep', sep)]));
    const v = await readMirrorView(redis, prefix);
    expect(v.users.sep).to.deep.include(sep);
    expect(v.changes.find((c) => c.id === 'sep')).to.deep.include({ data: { configurationId: v.users.sep!.configurationId, ...sep } });
    expect(v.users.odd).to.deep.include(odd);
    expect(v.raw.odd!.notes).to.equal(JSON.stringify(odd.notes));
    expect(v.changes.find((c) => c.id === 'odd')).to.deep.include({ data: { configurationId: v.users.odd!.configurationId, ...odd } });
    expect(replay(v.changes)).to.deep.equal(v.users);

    // Changes to users it holds go the same two ways (packed for plain names, pair by pair otherwise).
    const sepChange = { configurationId: { id: 'sep' }, notes: '\u001f\u001f', statusText: 'x' };
    const oddChange = { configurationId: { id: 'odd' }, 'we"ird\\name': 'c/d' };
    await h.apply(delta({ changed: [sepChange, oddChange] }));
    const w = await readMirrorView(redis, prefix);
    expect(w.users.sep).to.deep.equal({ ...sepChange });
    expect(w.users.odd).to.deep.equal({ ...odd, ...oddChange });
    expect(w.changes.slice(-2)).to.deep.equal([
      { ...w.changes.at(-2), op: 'upsert', id: 'sep', data: sepChange },
      { ...w.changes.at(-1), op: 'upsert', id: 'odd', data: oddChange },
    ]);
    expect(w.meta).to.include({ users: '3', seq: '5' });
    expect(replay(w.changes)).to.deep.equal(w.users);
  });

  it('a delta add sets the user to exactly the given properties; changed merges and null clears', async () => {
    const h = await start();
    await h.apply(replace([user('jdoe', { extension: '2222', statusText: 'Available', notes: 'x' })]));
    await h.apply(delta({ added: [user('jdoe', { extension: '2222', alias: 'JD' })] }));
    let v = await readMirrorView(redis, prefix);
    expect(v.users.jdoe).to.deep.equal({ configurationId: v.users.jdoe!.configurationId, extension: '2222', alias: 'JD' });
    expect(v.changes.at(-1)).to.deep.include({ op: 'upsert', id: 'jdoe', data: { alias: 'JD', statusText: null, notes: null } });
    await h.apply(delta({ changed: [{ configurationId: { id: 'jdoe' }, statusText: 'Away', alias: null }] }));
    v = await readMirrorView(redis, prefix);
    expect(v.users.jdoe).to.deep.equal({ configurationId: { id: 'jdoe' }, extension: '2222', statusText: 'Away' });
    expect(v.changes.at(-1)).to.deep.include({ data: { configurationId: { id: 'jdoe' }, statusText: 'Away', alias: null } });
    expect(v.raw.jdoe).to.not.have.property('alias');
  });

  it('a property given with the value it holds is no change; a user that does not change writes no entry', async () => {
    const h = await start();
    await h.apply(replace([user('jdoe', { extension: '2222', statusText: 'Available' })]));
    const before = await readMirrorView(redis, prefix);
    await h.apply(delta({ changed: [user('jdoe', { statusText: 'Available', notes: null })] }));
    await h.apply(delta({ added: [user('jdoe', { extension: '2222', statusText: 'Available' })] }));
    await h.apply(delta({ changed: [user('jdoe', { statusText: 'Away', extension: '2222' })] }));
    const v = await readMirrorView(redis, prefix);
    expect(v.changes.length).to.equal(before.changes.length + 1);
    expect(v.changes.at(-1)).to.deep.include({ data: { statusText: 'Away' } });
  });

  it('removed deletes the user, its id and its index entries; removing an unknown user writes nothing', async () => {
    const h = await start();
    await h.apply(replace([user('jdoe', { extension: '2222' }), user('asmith', { extension: '3333' })]));
    await h.apply(delta({ removed: ['jdoe', 'nobody'] }));
    const v = await readMirrorView(redis, prefix);
    expect(v.ids).to.deep.equal(['asmith']);
    expect(await redis.exists(mirrorKeys(prefix).user('jdoe'))).to.equal(0);
    expect(v.index).to.deep.equal({ '3333': 'asmith' });
    expect(v.changes.at(-1)).to.deep.equal({ op: 'remove', seq: 3, id: 'jdoe', at: v.changes.at(-1)!.at });
    expect(v.meta).to.include({ seq: '3', users: '1' });
  });

  it('applies added, then changed, then removed within one message', async () => {
    const h = await start();
    await h.apply(replace([user('keep')]));
    await h.apply(delta({ removed: ['x'], changed: [user('x', { statusText: 'Busy' })], added: [user('x', { extension: '1' })] }));
    const v = await readMirrorView(redis, prefix);
    expect(v.changes.slice(1).map((c) => c.op)).to.deep.equal(['upsert', 'upsert', 'remove']);
    expect(v.ids).to.deep.equal(['keep']);
    expect(v.index).to.deep.equal({});
  });

  it('keeps the index right when an extension moves between users, within one message and across messages', async () => {
    const h = await start();
    await h.apply(replace([user('a', { extension: '100' }), user('b', { extension: '200' })]));
    // Within one message, in either order.
    await h.apply(delta({ changed: [user('b', { extension: '100' }), user('a', { extension: '300' })] }));
    expect(await redis.hget(mirrorKeys(prefix).index('extension'), '100')).to.equal('b');
    await h.apply(delta({ changed: [user('b', { extension: '400' }), user('a', { extension: '100' })] }));
    expect((await readMirrorView(redis, prefix)).index).to.deep.equal({ '100': 'a', '400': 'b' });
    // Across messages: b takes 100 while a still holds it, then a lets it go: the entry stays on b.
    await h.apply(delta({ changed: [user('b', { extension: '100' })] }), delta({ changed: [user('a', { extension: null })] }));
    expect((await readMirrorView(redis, prefix)).index).to.deep.equal({ '100': 'b' });
    await h.apply(delta({ removed: ['b'] }));
    expect((await readMirrorView(redis, prefix)).index).to.deep.equal({});
  });

  it('a full replace converges without emptying the mirror, in bounded batches with syncing=1 around them', async () => {
    const h = await start({ replaceBatchSize: 3, maxInFlightChunks: 1 });
    const initial = Array.from({ length: 10 }, (_, i) => user(`u${i}`, { extension: String(100 + i), statusText: 'Available' }));
    await h.apply(replace(initial));
    const seen: Array<{ batch: CommittedBatch; syncing: string | null; users: number }> = [];
    const k = mirrorKeys(prefix);
    const sub = h.mirror.committed$.subscribe((batch) => {
      // Issued before the next chunk on the same connection: what a reader sees between two chunks.
      void Promise.all([redis.hget(k.meta, 'syncing'), redis.scard(k.ids)]).then(([syncing, users]) => seen.push({ batch, syncing, users }));
    });
    const next = [
      ...initial.slice(0, 4), // unchanged
      user('u4', { extension: '104' }), // statusText cleared
      user('u5', { extension: '105', statusText: 'Away' }),
      ...Array.from({ length: 6 }, (_, i) => user(`n${i}`, { extension: String(200 + i) })),
    ]; // u6..u9 absent
    const before = (await readMirrorView(redis, prefix)).changes.length;
    await h.apply(replace(next, { syncReason: 'resubscribe' }));
    sub.unsubscribe();
    const v = await readMirrorView(redis, prefix);
    const entries = v.changes.slice(before);
    expect(entries.filter((c) => c.op === 'upsert').map((c) => c.id)).to.deep.equal(['u4', 'u5', 'n0', 'n1', 'n2', 'n3', 'n4', 'n5']);
    expect(entries.find((c) => c.id === 'u4')).to.deep.include({ data: { statusText: null } });
    expect(entries.find((c) => c.id === 'u5')).to.deep.include({ data: { statusText: 'Away' } });
    expect(entries.filter((c) => c.op === 'remove').map((c) => c.id)).to.deep.equal(['u6', 'u7', 'u8', 'u9']);
    expect(v.ids).to.have.length(12);
    expect(v.meta.syncing).to.equal('0');
    expect(seen.length).to.be.greaterThan(2);
    for (const s of seen.slice(0, -1)) expect(s.syncing).to.equal('1');
    for (const s of seen) expect(s.users).to.be.greaterThan(0);
    for (const s of seen) expect(s.batch.toSeq - s.batch.fromSeq + 1).to.be.at.most(3);
    expect(replay(v.changes)).to.deep.equal(v.users);
    expect(await metricValue(h.metrics, 'fullSyncs', { reason: 'resubscribe' })).to.equal(1);
  });

  it('a resync of unchanged users writes nothing but meta', async () => {
    const h = await start();
    const users = Array.from({ length: 50 }, (_, i) => user(`u${i}`, { extension: String(i), workgroups: [{ id: 'Support' }] }));
    await h.apply(replace(users));
    const before = await readMirrorView(redis, prefix);
    await h.apply(replace(users.map((u) => structuredClone(u))));
    const after = await readMirrorView(redis, prefix);
    expect(after.changes).to.deep.equal(before.changes);
    expect(after.meta.seq).to.equal(before.meta.seq);
  });

  it('skips users a streamed full replace carries as the same text, but never one changed since', async () => {
    const h = await start();
    const known = h.mirror.writer;
    const users = Array.from({ length: 50 }, (_, i) => user(`u${i}`, { extension: String(i), statusText: 'Available' }));
    await h.apply(streamedReplace(users, known));
    const before = await readMirrorView(redis, prefix);
    // The same text again: nothing written, and no user even parsed.
    const again = streamedReplace(users, known);
    expect(again.message.readUsers!.every((u) => u.kind === 'known')).to.equal(true);
    await h.apply(again);
    expect((await readMirrorView(redis, prefix)).meta.seq).to.equal(before.meta.seq);
    // A delta changes u3 and u7 goes: the same full replace puts both back.
    await h.apply(delta({ changed: [{ configurationId: { id: 'u3' }, statusText: 'Away', extension: null }], removed: ['u7'] }));
    await h.apply(streamedReplace(users, known));
    const after = await readMirrorView(redis, prefix);
    expect(after.changes.slice(-2).map((c) => `${c.op}:${c.id}`)).to.deep.equal(['upsert:u3', 'upsert:u7']);
    expect(after.users).to.deep.equal(before.users);
    // A user whose text differs is compared property by property, as always.
    const moved = users.map((u) => (u.configurationId.id === 'u9' ? { ...u, statusText: 'Gone home' } : u));
    await h.apply(streamedReplace(moved, known));
    const last = (await readMirrorView(redis, prefix)).changes.at(-1)!;
    expect(last).to.include({ op: 'upsert', id: 'u9' });
    expect((last as { data: Record<string, unknown> }).data).to.deep.equal({ statusText: 'Gone home' });
  });

  it('a full replace of parsed users (polling) skips the unchanged ones the same way, but never one changed since', async () => {
    const h = await start();
    const users = Array.from({ length: 20 }, (_, i) => user(`p${i}`, { extension: String(100 + i), statusText: 'Available' }));
    await h.apply(replace(users));
    const before = await readMirrorView(redis, prefix);
    await h.apply(delta({ changed: [{ configurationId: { id: 'p4' }, statusText: 'Away' }] }));
    await h.apply(replace(users.map((u) => structuredClone(u))));
    const after = await readMirrorView(redis, prefix);
    expect(after.changes.slice(before.changes.length).map((c) => `${c.op}:${c.id}`)).to.deep.equal(['upsert:p4', 'upsert:p4']);
    expect(after.users).to.deep.equal(before.users);
  });

  it('continues seq and keeps the epoch across a daemon restart; a new epoch only when meta is missing', async () => {
    const h1 = await start();
    await h1.apply(replace([user('a', { extension: '1' }), user('b')]));
    const first = await readMirrorView(redis, prefix);
    await h1.mirror.drain(1000);
    const h2 = await start();
    expect(h2.mirror.status()).to.include({ epoch: first.meta.epoch, seq: 2, users: 2 });
    await h2.apply(replace([user('a', { extension: '1' }), user('c')]));
    const v = await readMirrorView(redis, prefix);
    expect(v.meta.epoch).to.equal(first.meta.epoch);
    expect(v.changes.map((c) => `${c.seq}:${c.op}:${c.id}`)).to.deep.equal(['1:upsert:a', '2:upsert:b', '3:upsert:c', '4:remove:b']);
    expectGapFree(v.changes);
    await h2.mirror.drain(1000);
    await redis.del(mirrorKeys(prefix).meta);
    const h3 = await start();
    expect(h3.mirror.status().epoch).to.not.equal(first.meta.epoch);
    expect(h3.mirror.status().seq).to.equal(0);
  });

  it('keeps working after SCRIPT FLUSH (EVALSHA falls back to EVAL on NOSCRIPT)', async () => {
    const h = await start();
    await h.apply(replace([user('a', { statusText: '1' })]));
    await redis.script('FLUSH');
    await h.apply(delta({ changed: [user('a', { statusText: '2' })] }));
    await redis.script('FLUSH');
    await h.apply(delta({ changed: [user('a', { statusText: '3' })] }));
    const v = await readMirrorView(redis, prefix);
    expect(v.users.a!.statusText).to.equal('3');
    expectGapFree(v.changes);
    expect(v.changes).to.have.length(3);
  });

  it('skips malformed users with a warning naming them and applies the rest of the message', async () => {
    const warnings: string[] = [];
    const { createLogger } = await import('../../src/log/logger.js');
    const { Writable } = await import('node:stream');
    const stream = new Writable({ write: (chunk, _e, cb) => (warnings.push(String(chunk)), cb()) });
    const h = await start({ logger: createLogger({ stream, level: 'warn' }) });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await h.apply(
      replace([user('ok1', { extension: '1' }), { extension: '9' } as never, user('bad', { notes: circular }), user('ok2', { cost: 10n })]),
      delta({ changed: [user('ok1', { statusText: 'Away' }), { configurationId: { id: 42 } }, 'nonsense'], removed: [17, 'ok2'] }),
    );
    const v = await readMirrorView(redis, prefix);
    expect(v.ids).to.deep.equal(['ok1']);
    expect(v.users.ok1!.statusText).to.equal('Away');
    const text = warnings.join('');
    expect(text).to.match(/malformed user \? .*configurationId\.id missing/);
    expect(text).to.match(/malformed user bad .*property notes is not JSON-encodable/);
    expect(text).to.match(/malformed user ok2 .*property cost/);
    expect(text).to.match(/malformed removed id/);
  });

  it('coalesces messages waiting while a batch is in flight, in order, into fewer round trips', async () => {
    const h = await start({ maxBatchMessages: 64 });
    await h.apply(replace([user('a')]));
    const batches: CommittedBatch[] = [];
    h.mirror.committed$.subscribe((b) => batches.push(b));
    const messages = Array.from({ length: 200 }, (_, i) => delta({ changed: [user('a', { statusText: `s${i}` })] }));
    await h.apply(...messages);
    const v = await readMirrorView(redis, prefix);
    expect(v.changes.slice(1).map((c) => (c as unknown as { data: { statusText: string } }).data.statusText)).to.deep.equal(messages.map((_, i) => `s${i}`));
    expect(batches.length).to.be.lessThan(200);
    expect(batches.length).to.be.at.least(Math.ceil(200 / 64));
    batches.forEach((b, i) => i && expect(b.fromSeq).to.equal(batches[i - 1]!.toSeq + 1));
    expect(await metricValue(h.metrics, 'lag', { stage: 'redis' })).to.be.greaterThan(0);
  });

  it('on overflow drops the queue, asks for a full replace, and counts it under reason "overflow"', async () => {
    let asked = 0;
    const h = await start({ maxPendingMessages: 5, onOverflow: () => asked++ });
    await h.apply(replace([user('a')]));
    // Synchronously: the worker has no chance to take any of them before the queue is full.
    for (let i = 0; i < 8; i++) h.source.next(delta({ changed: [user('a', { statusText: `s${i}` })] }));
    expect(asked).to.equal(1);
    h.source.next(delta({ changed: [user('a', { statusText: 'after-gap' })] }));
    await h.apply(replace([user('a', { statusText: 'fresh' })], { syncReason: 'overflow' }));
    const v = await readMirrorView(redis, prefix);
    expect(v.users.a!.statusText).to.equal('fresh');
    expect(v.changes.map((c) => (c as { data?: { statusText?: string } }).data?.statusText)).to.not.include('after-gap');
    expect(await metricValue(h.metrics, 'fullSyncs', { reason: 'overflow' })).to.equal(1);
    expect(await metricValue(h.metrics, 'pendingMessages')).to.equal(0);
  });

  it('updates the metrics it owns', async () => {
    const h = await start();
    const recent = new Date(Date.now() - 2000);
    const compact = recent.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    await h.apply(replace([user('a', { extension: '1' }), user('b')], { syncReason: 'subscribe' }));
    await h.apply(
      delta({ changed: [user('a', { lastModifiedDate: compact })] }),
      delta({ changed: [user('b', { lastModifiedDate: recent.toISOString() })], removed: ['a'] }),
    );
    const m = h.metrics;
    expect(await metricValue(m, 'changes', { op: 'upsert' })).to.equal(4);
    expect(await metricValue(m, 'changes', { op: 'remove' })).to.equal(1);
    expect(await metricValue(m, 'users')).to.equal(1);
    expect(await metricValue(m, 'seq')).to.equal(5);
    expect(await metricValue(m, 'fullSyncs', { reason: 'subscribe' })).to.equal(1);
    const text = await m.registry.metrics();
    expect(text).to.match(/icwatch_lag_seconds_count\{stage="redis"\} 3/);
    expect(text).to.match(/icwatch_source_lag_seconds_count 2/);
    expect(text).to.match(/icwatch_source_lag_seconds_bucket\{le="1"\} 0/);
    expect(text).to.match(/icwatch_source_lag_seconds_bucket\{le="5"\} 2/);
    expect(text).to.match(/icwatch_redis_apply_duration_seconds_count [1-9]/);
    expect(h.mirror.status()).to.include({ seq: 5, users: 1, synced: true, syncing: false, redisUp: true });
  });

  it('applies what was queued when messages$ errors, then rejects done with that error', async () => {
    const h = await start();
    h.source.next(replace([user('a')]));
    h.source.next(delta({ changed: [user('a', { statusText: 'last' })] }));
    h.source.error(new Error('410 Gone'));
    let failure: unknown;
    await h.mirror.done.catch((err) => (failure = err));
    expect((failure as Error).message).to.equal('410 Gone');
    expect((await readMirrorView(redis, prefix)).users.a!.statusText).to.equal('last');
  });

  it('resolves done when messages$ completes', async () => {
    const h = await start();
    h.source.next(replace([user('a')]));
    h.source.complete();
    await h.mirror.done;
    await waitIdle(h.metrics);
    expect((await readMirrorView(redis, prefix)).ids).to.deep.equal(['a']);
  });
});
