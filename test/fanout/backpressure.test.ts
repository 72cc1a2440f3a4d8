/** A slow consumer is closed with 4008 without hurting others, and resumes losing nothing; a dead peer is cut off. */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { Socket } from 'node:net';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { startHarness, type Harness } from './harness.js';
import { LayoutWriter, plain, readMirror } from './layout.js';

describe('fanout: backpressure and keepalive', function () {
  this.timeout(60000);
  let redis: Redis;
  let prefix: string;
  let writer: LayoutWriter;
  let h: Harness | undefined;

  beforeEach(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('fanout-bp');
    writer = new LayoutWriter(redis, prefix, { streamLength: 1000000 });
    await writer.init();
    for (let i = 0; i < 10; i++) await writer.upsert(`u${i}`, { extension: String(1000 + i) });
  });

  afterEach(async () => {
    await h?.close();
    h = undefined;
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('closes a client that stops reading with 4008 while others keep receiving; it then resumes with nothing lost', async () => {
    h = await startHarness(redis, prefix, { maxBufferedBytes: 256 * 1024, limits: { slowConsumerGraceMs: 60000 } });
    const normal = h.client();
    const slow = h.client();
    const gaps: number[] = [];
    slow.on('gap', (want: number) => gaps.push(want));
    normal.on('gap', (want: number) => gaps.push(want));
    await waitFor('both synced', () => normal.seq === writer.seq && slow.seq === writer.seq);
    const slowCodes: number[] = [];
    slow.on('close', (code: number) => slowCodes.push(code));
    const slowSocket = (slow.socket as unknown as { _socket: Socket })._socket;
    slowSocket.pause(); // the kernel buffers fill, then the server's: a consumer that stopped reading

    const blob = 'x'.repeat(8 * 1024);
    let n = 0;
    while ((await h.disconnects('slow-consumer')) === 0) {
      const ops = Array.from({ length: 50 }, () => ({ op: 'upsert' as const, id: `u${n % 10}`, data: { notes: `${n++} ${blob}` } }));
      await writer.apply(ops);
      if (n > 20000) throw new Error('the slow client was never closed');
    }
    // the normal client kept up meanwhile
    await writer.upsert('u1', { statusText: 'after the slow one' });
    await waitFor('normal client at the last seq', () => normal.seq === writer.seq);
    expect(h.fanout.clientCount).to.be.at.most(2);

    slowSocket.resume();
    await waitFor('slow client told 4008', () => slowCodes.includes(4008), 30000);
    await waitFor('slow client resumed', () => slow.seq === writer.seq && slow.connected, 30000);
    expect(slow.counts.reset ?? 0).to.equal(0);
    expect(gaps).to.deep.equal([]);
    const mirror = plain(await readMirror(redis, writer.keys));
    expect(plain(slow.users)).to.deep.equal(mirror);
    expect(plain(normal.users)).to.deep.equal(mirror);
  });

  it('terminates a peer that does not answer pings', async () => {
    h = await startHarness(redis, prefix, { pingIntervalMs: 100 });
    const dead = new WebSocket(h.url, { autoPong: false });
    dead.on('message', () => {});
    const code = new Promise<number>((r) => dead.on('close', (c) => r(c)));
    const alive = h.client();
    expect(await code).to.equal(1006);
    await waitFor('counted as keepalive', async () => (await h!.disconnects('keepalive')) === 1);
    await writer.upsert('u1', { statusText: 'still here' });
    await waitFor('the answering client stays', () => alive.seq === writer.seq && alive.connected);
    expect(h.fanout.clientCount).to.equal(1);
  });
});
