/** Snapshot, live changes and resume: what a client holds equals the mirror, at every seq. */
import { expect } from 'chai';
import WebSocket from 'ws';
import { IcwatchClient } from '../../src/client/index.js';
import { waitFor } from '../helpers/net.js';
import type { SharedSnapshots } from '../../src/fanout/snapshot.js';
import { useFixture } from './harness.js';
import { readMirror } from '../helpers/mirror.js';
import { plain, randomOp, seeded } from './layout.js';

/** Every frame a raw ws client receives, parsed. */
function rawClient(url: string): { ws: WebSocket; frames: Array<Record<string, any>>; closed: Promise<number> } {
  const ws = new WebSocket(url);
  const frames: Array<Record<string, any>> = [];
  ws.on('message', (d) => frames.push(JSON.parse((d as Buffer).toString())));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  ws.on('error', () => {});
  return { ws, frames, closed };
}

describe('fanout: snapshot, changes and resume', function () {
  const f = useFixture('fanout', { users: 30, seed: { statusText: 'Available' }, writer: { keepHistory: true } });

  it('sends hello, then a snapshot in chunks, then live changes; the client ends equal to the mirror', async () => {
    const { ws, frames } = rawClient(f.h.url);
    await waitFor('snapshot', () => frames.some((f) => f.type === 'snapshot' && f.last));
    expect(frames[0]).to.deep.equal({ type: 'hello', epoch: f.writer.epoch, seq: f.writer.seq, version: 'test' });
    const chunks = frames.filter((f) => f.type === 'snapshot');
    expect(chunks).to.have.length(Math.ceil(30 / 7));
    expect(chunks.every((c) => c.seq === 30)).to.equal(true);
    expect(chunks.map((c) => c.last)).to.deep.equal([false, false, false, false, true]);
    await f.writer.upsert('u1', { statusText: 'Away' });
    await f.writer.remove('u2');
    await waitFor('two changes', () => frames.length === 1 + chunks.length + 2);
    expect(frames.slice(-2)).to.deep.equal([
      { type: 'upsert', seq: 31, id: 'u1', data: { statusText: 'Away' } },
      { type: 'remove', seq: 32, id: 'u2' },
    ]);
    ws.close();

    const c = f.h.client();
    const rand = seeded(7);
    for (let i = 0; i < 100; i++) await f.writer.apply([randomOp(rand, 40), randomOp(rand, 40)]);
    await waitFor('client at the last seq', () => c.seq === f.writer.seq);
    expect(plain(c.users)).to.deep.equal(plain(await readMirror(f.redis, f.writer.keys)));
  });

  it('holds exactly the mirror at every seq, also when the snapshot is taken while the mirror changes', async () => {
    const rand = seeded(42);
    const mismatches: string[] = [];
    let checks = 0;
    const check = (c: IcwatchClient, seq: number) => {
      checks++;
      const expected = f.writer.history.get(seq);
      if (!expected || JSON.stringify(plain(c.users)) !== JSON.stringify(plain(expected))) mismatches.push(`seq ${seq}`);
    };
    const followers: IcwatchClient[] = [];
    const storm = (async () => {
      for (let i = 0; i < 150; i++) {
        await f.writer.apply([randomOp(rand, 40), randomOp(rand, 40), randomOp(rand, 40)]);
        if (i % 25 === 0) {
          const c = f.h.client();
          c.on('synced', (seq: number) => check(c, seq));
          c.on('change', (e: { seq: number }) => check(c, e.seq));
          followers.push(c);
        }
      }
    })();
    await storm;
    for (const c of followers) await waitFor('follower at the last seq', () => c.seq === f.writer.seq);
    expect(mismatches).to.deep.equal([]);
    expect(checks).to.be.greaterThan(300);
    expect(followers.every((c) => (c.counts.upsert ?? 0) + (c.counts.remove ?? 0) > 0)).to.equal(true);
    // and stepwise against Redis itself
    const c = followers[0]!;
    for (let i = 0; i < 15; i++) {
      const seq = await f.writer.apply([randomOp(rand, 40)]);
      await waitFor(`seq ${seq}`, () => c.seq === seq);
      expect(plain(c.users)).to.deep.equal(plain(await readMirror(f.redis, f.writer.keys)));
    }
  });

  it('resumes after a disconnect with exactly the missed changes', async () => {
    const c = f.h.client();
    await waitFor('synced', () => c.seq === f.writer.seq);
    await c.stop();
    const since = c.seq!;
    for (let i = 0; i < 12; i++) await f.writer.upsert(`u${i}`, { statusText: `busy ${i}` });
    await f.writer.remove('u20');
    const { ws, frames } = rawClient(`${f.h.url}?since=${since}&epoch=${f.writer.epoch}`);
    await waitFor('missed changes', () => frames.length === 14);
    await f.writer.upsert('u3', { extension: '9999' });
    await waitFor('a live change', () => frames.length === 15);
    expect(frames[0]!.type).to.equal('hello');
    expect(frames.slice(1).map((f) => f.seq)).to.deep.equal(Array.from({ length: 14 }, (_, i) => since + 1 + i));
    expect(frames.some((f) => f.type === 'snapshot' || f.type === 'reset')).to.equal(false);
    ws.close();

    // the reusable client resumes by itself after a drop, without a snapshot
    const d = f.h.client();
    await waitFor('synced', () => d.seq === f.writer.seq);
    const snapshotFrames = d.counts.snapshot;
    d.drop();
    await f.writer.upsert('u4', { statusText: 'dropped meanwhile' });
    await waitFor('resumed', () => d.seq === f.writer.seq && d.connected);
    expect(d.counts.snapshot).to.equal(snapshotFrames);
    expect(d.counts.hello).to.equal(2);
    expect(d.counts.reset ?? 0).to.equal(0);
    expect(plain(d.users)).to.deep.equal(plain(await readMirror(f.redis, f.writer.keys)));
  });

  it('answers a stale epoch and a trimmed stream with reset, then a snapshot', async () => {
    const stale = rawClient(`${f.h.url}?since=10&epoch=other`);
    await waitFor('snapshot', () => stale.frames.some((f) => f.last));
    expect(stale.frames[1]).to.deep.equal({ type: 'reset', reason: 'epoch', epoch: f.writer.epoch, seq: 30 });
    expect(stale.frames[2]!.type).to.equal('snapshot');
    stale.ws.close();

    await f.writer.trimThrough(20);
    const trimmed = rawClient(`${f.h.url}?since=10&epoch=${f.writer.epoch}`);
    await waitFor('snapshot', () => trimmed.frames.some((f) => f.last));
    expect(trimmed.frames[1]).to.deep.equal({ type: 'reset', reason: 'trimmed', epoch: f.writer.epoch, seq: 30 });
    trimmed.ws.close();

    // since without an epoch (icwatch tail --since) resumes when the stream still holds since+1
    const noEpoch = rawClient(`${f.h.url}?since=25`);
    await waitFor('missed changes', () => noEpoch.frames.length === 6);
    expect(noEpoch.frames.slice(1).map((f) => f.seq)).to.deep.equal([26, 27, 28, 29, 30]);
    noEpoch.ws.close();
  });

  it('gives every client reset and a snapshot when the mirror restarts with a new epoch', async () => {
    const c = f.h.client();
    await waitFor('synced', () => c.seq === f.writer.seq);
    const oldEpoch = f.writer.epoch;
    await f.writer.init();
    await f.writer.upsert('fresh', { extension: '1' });
    await f.writer.upsert('fresh2', { extension: '2' });
    await waitFor('client on the new epoch', () => c.epoch === f.writer.epoch && c.seq === f.writer.seq);
    expect(c.epoch).to.not.equal(oldEpoch);
    expect(c.counts.reset).to.equal(1);
    expect(plain(c.users)).to.deep.equal(plain(await readMirror(f.redis, f.writer.keys)));
  });

  it("names the epoch a snapshot was read in when the mirror restarted after the hello: its seqs never pass for the old epoch's", async () => {
    const oldEpoch = f.writer.epoch;
    // The mirror restarts between the hello (which named the old epoch) and the snapshot read: its seqs start over.
    const snapshots = (f.h.fanout as unknown as { sync: { options: { snapshots: SharedSnapshots } } }).sync.options.snapshots;
    const get = snapshots.get.bind(snapshots);
    let restarted = false;
    snapshots.get = async (ids) => {
      if (!restarted) {
        restarted = true;
        await f.writer.init();
        await f.writer.upsert('fresh', { extension: '1' });
      }
      return get(ids);
    };
    const raw = rawClient(f.h.url);
    await waitFor('snapshot', () => raw.frames.some((f) => f.last));
    expect(raw.frames.slice(0, 3).map(({ type, epoch, seq }) => ({ type, epoch, seq }))).to.deep.equal([
      { type: 'hello', epoch: oldEpoch, seq: 30 },
      { type: 'reset', epoch: f.writer.epoch, seq: 1 },
      { type: 'snapshot', epoch: undefined, seq: 1 },
    ]);
    raw.ws.close();

    // icwatch/client meets the same restart: it labels the new epoch's changes with it.
    restarted = false;
    const c = f.h.client();
    const seen: string[] = [];
    c.on('change', (e: { seq: number }) => seen.push(`${c.epoch}/${e.seq}`));
    await waitFor('synced', () => restarted && c.seq === f.writer.seq);
    expect(c.epoch).to.equal(f.writer.epoch);
    await f.writer.upsert('fresh', { extension: '2' });
    await waitFor('the change', () => c.seq === f.writer.seq);
    expect(seen).to.deep.equal([`${f.writer.epoch}/2`]);
    expect(plain(c.users)).to.deep.equal(plain(await readMirror(f.redis, f.writer.keys)));
  });

  it('filters by ids and props', async () => {
    const { ws, frames } = rawClient(`${f.h.url}?ids=u1,u2,nobody&props=extension`);
    await waitFor('snapshot', () => frames.some((f) => f.last));
    const snap = frames.filter((f) => f.type === 'snapshot');
    expect(snap).to.have.length(1);
    expect(snap[0]!.users.sort((a: any, b: any) => (a.id < b.id ? -1 : 1))).to.deep.equal([
      { id: 'u1', extension: '1001' },
      { id: 'u2', extension: '1002' },
    ]);
    await f.writer.upsert('u1', { statusText: 'not for this client' });
    await f.writer.upsert('u3', { extension: '3333' });
    await f.writer.upsert('u1', { extension: '1111', statusText: 'x' });
    await f.writer.remove('u2');
    await f.writer.remove('u4');
    await waitFor('filtered changes', () => frames.length === 1 + 1 + 2);
    expect(frames.slice(2)).to.deep.equal([
      { type: 'upsert', seq: 33, id: 'u1', data: { extension: '1111' } },
      { type: 'remove', seq: 34, id: 'u2' },
    ]);
    ws.close();

    // the client keeps the filtered view equal to the mirror's
    const c = f.h.client({ ids: ['u5', 'u6'], props: ['statusText'] });
    await waitFor('synced', () => c.seq !== null);
    await f.writer.upsert('u5', { statusText: 'Gone home' });
    await f.writer.upsert('u7', { statusText: 'elsewhere' });
    await waitFor('u5 changed', () => c.users.get('u5')?.statusText === 'Gone home');
    expect(plain(c.users)).to.deep.equal({ u5: { statusText: 'Gone home' }, u6: { statusText: 'Available' } });
  });
});
