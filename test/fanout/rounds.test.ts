/**
 * Live changes go out in rounds: a client whose socket has not drained gets every newer round merged into its
 * next write (never a queue of writes), and a round costs only the clients that have something to receive.
 */
import { expect } from 'chai';
import type { Socket } from 'node:net';
import type { IcwatchClient } from '../../src/client/index.js';
import { waitFor } from '../helpers/net.js';
import { startHarness, useFixture } from './harness.js';
import { readMirror } from '../helpers/mirror.js';
import { plain } from './layout.js';

/** The change seqs a client applies, to check they are contiguous. */
function recordSeqs(c: IcwatchClient): number[] {
  const seqs: number[] = [];
  c.on('change', (e: { seq: number }) => seqs.push(e.seq));
  return seqs;
}

const contiguous = (seqs: number[]) => seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1);

describe('fanout: rounds', function () {
  this.timeout(60000);
  const f = useFixture('fanout-rounds', { users: 10, writer: { streamLength: 1000000 }, fanout: null });

  it('merges the rounds a client falls behind by into one write once its socket drains: seq contiguous, nothing lost', async () => {
    f.h = await startHarness(f.redis, f.prefix, { maxBufferedBytes: 256 * 1024 * 1024, limits: { slowConsumerGraceMs: 60000 } });
    const normal = f.h.client();
    const behind = f.h.client();
    const gaps: number[] = [];
    for (const c of [normal, behind]) c.on('gap', (want: number) => gaps.push(want));
    const behindSeqs = recordSeqs(behind);
    await waitFor('both live', () => normal.seq === f.writer.seq && behind.seq === f.writer.seq && f.h.fanout.liveClientCount === 2);
    const counters = f.h.fanout.counters;
    const behindSocket = (behind.socket as unknown as { _socket: Socket })._socket;
    behindSocket.pause(); // the kernel's buffers fill, then the server holds back: a client that reads slowly

    // Big changes, one round each, until the server holds one back for the paused client.
    const blob = 'x'.repeat(256 * 1024);
    for (let n = 0; counters.heldBack === 0; n++) {
      if (n > 400) throw new Error('the paused client never had a round held back');
      const seq = await f.writer.upsert(`u${n % 10}`, { notes: `${n} ${blob}` });
      await waitFor(`normal client at ${seq}`, () => normal.seq === seq);
    }
    const before = { ...counters };
    const rounds = 8;
    for (let i = 0; i < rounds; i++) {
      const seq = await f.writer.upsert(`u${i % 10}`, { statusText: `round ${i}` });
      await waitFor(`normal client at ${seq}`, () => normal.seq === seq);
    }
    // Each round was one write, to the client that reads; for the other it was merged into what waits for drain.
    expect(counters.rounds - before.rounds).to.equal(rounds);
    expect(counters.writes - before.writes).to.equal(rounds);
    expect(counters.heldBack - before.heldBack).to.equal(rounds);

    behindSocket.resume();
    await waitFor('the paused client caught up', () => behind.seq === f.writer.seq, 30000);
    expect(counters.writes - before.writes).to.equal(rounds + 1); // everything it fell behind by, in one write
    expect(behind.connected).to.equal(true);
    expect(behind.counts.hello).to.equal(1);
    expect(gaps).to.deep.equal([]);
    expect(contiguous(behindSeqs)).to.equal(true);
    expect(behindSeqs.at(-1)).to.equal(f.writer.seq);
    const mirror = plain(await readMirror(f.redis, f.writer.keys));
    expect(plain(behind.users)).to.deep.equal(mirror);
    expect(plain(normal.users)).to.deep.equal(mirror);
  });

  it('costs a round nothing for filtered clients that receive nothing of it', async () => {
    f.h = await startHarness(f.redis, f.prefix);
    const everything = f.h.client();
    const byIds = Array.from({ length: 30 }, () => f.h.client({ ids: ['u1', 'u2'] }));
    const byProps = Array.from({ length: 20 }, () => f.h.client({ props: ['skills'] }));
    const all = [everything, ...byIds, ...byProps];
    await waitFor('all live', () => f.h.fanout.liveClientCount === all.length);
    const counters = f.h.fanout.counters;

    // u5's status: only the unfiltered client receives it.
    const before = { ...counters };
    const rounds = 6;
    for (let i = 0; i < rounds; i++) {
      const seq = await f.writer.upsert('u5', { statusText: `s${i}` });
      await waitFor(`unfiltered client at ${seq}`, () => everything.seq === seq);
    }
    expect(counters.rounds - before.rounds).to.equal(rounds);
    expect(counters.clientsVisited - before.clientsVisited).to.equal(rounds);

    // u1's status: the unfiltered client and the 30 following u1; the props=skills clients are not looked at.
    const mid = { ...counters };
    const seq = await f.writer.upsert('u1', { statusText: 'Away' });
    await waitFor('u1 followers have it', () => everything.seq === seq && byIds.every((c) => c.users.get('u1')?.statusText === 'Away'));
    expect(counters.clientsVisited - mid.clientsVisited).to.equal(1 + byIds.length);
    const mirror = await readMirror(f.redis, f.writer.keys);
    for (const c of byIds) expect(plain(c.users)).to.deep.equal({ u1: mirror.get('u1'), u2: mirror.get('u2') });

    // a skills change reaches the props group again, as one shared buffer
    const last = await f.writer.upsert('u7', { skills: { level: 2 } });
    await waitFor('props clients have it', () => byProps.every((c) => c.users.get('u7')?.skills !== undefined) && everything.seq === last);
    expect(byProps.every((c) => JSON.stringify(c.users.get('u7')) === '{"skills":{"level":2}}')).to.equal(true);
  });
});
