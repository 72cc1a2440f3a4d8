/** A slow consumer is closed with 4008 without hurting others, and resumes losing nothing; a dead peer is cut off. */
import { expect } from 'chai';
import WebSocket from 'ws';
import type { Socket } from 'node:net';
import { CLOSE } from '../../src/fanout/close-codes.js';
import { waitFor } from '../helpers/net.js';
import { startHarness, useFixture } from './harness.js';
import { readMirror } from '../helpers/mirror.js';
import { plain } from './layout.js';

describe('fanout: backpressure and keepalive', function () {
  this.timeout(60000);
  const f = useFixture('fanout-bp', { users: 10, writer: { streamLength: 1000000 }, fanout: null });

  it('closes a client that stops reading with 4008 while others keep receiving; it then resumes with nothing lost', async () => {
    f.h = await startHarness(f.redis, f.prefix, { maxBufferedBytes: 256 * 1024, limits: { slowConsumerGraceMs: 60000 } });
    const normal = f.h.client();
    const slow = f.h.client();
    const gaps: number[] = [];
    slow.on('gap', (want: number) => gaps.push(want));
    normal.on('gap', (want: number) => gaps.push(want));
    await waitFor('both synced', () => normal.seq === f.writer.seq && slow.seq === f.writer.seq);
    const slowCodes: number[] = [];
    slow.on('close', (code: number) => slowCodes.push(code));
    const slowSocket = (slow.socket as unknown as { _socket: Socket })._socket;
    slowSocket.pause(); // the kernel buffers fill, then the server's: a consumer that stopped reading

    const blob = 'x'.repeat(8 * 1024);
    let n = 0;
    while ((await f.h.disconnects(CLOSE.slowConsumer.counted)) === 0) {
      const ops = Array.from({ length: 50 }, () => ({ op: 'upsert' as const, id: `u${n % 10}`, data: { notes: `${n++} ${blob}` } }));
      await f.writer.apply(ops);
      if (n > 20000) throw new Error('the slow client was never closed');
    }
    // the normal client kept up meanwhile
    await f.writer.upsert('u1', { statusText: 'after the slow one' });
    await waitFor('normal client at the last seq', () => normal.seq === f.writer.seq);
    expect(f.h.fanout.clientCount).to.be.at.most(2);

    slowSocket.resume();
    await waitFor('slow client told slow consumer', () => slowCodes.includes(CLOSE.slowConsumer.code), 30000);
    await waitFor('slow client resumed', () => slow.seq === f.writer.seq && slow.connected, 30000);
    expect(slow.counts.reset ?? 0).to.equal(0);
    expect(gaps).to.deep.equal([]);
    const mirror = plain(await readMirror(f.redis, f.writer.keys));
    expect(plain(slow.users)).to.deep.equal(mirror);
    expect(plain(normal.users)).to.deep.equal(mirror);
  });

  it('terminates a peer that does not answer pings', async () => {
    f.h = await startHarness(f.redis, f.prefix, { pingIntervalMs: 100 });
    const dead = new WebSocket(f.h.url, { autoPong: false });
    dead.on('message', () => {});
    const code = new Promise<number>((r) => dead.on('close', (c) => r(c)));
    const alive = f.h.client();
    expect(await code).to.equal(CLOSE.abnormal.code);
    await waitFor('counted as keepalive', async () => (await f.h.disconnects('keepalive')) === 1);
    await f.writer.upsert('u1', { statusText: 'still here' });
    await waitFor('the answering client stays', () => alive.seq === f.writer.seq && alive.connected);
    expect(f.h.fanout.clientCount).to.equal(1);
  });
});
