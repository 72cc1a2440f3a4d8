/**
 * The close-code table of the protocol and the server's view of it (each row with how it is counted), and the
 * server closing with its names: 1009 on an oversized frame, 1011 when it fails.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { CLOSE } from '../../src/fanout/close-codes.js';
import { CLOSE as PROTOCOL_CLOSE, closeCode } from '../../src/protocol/close-codes.js';
import { waitFor } from '../helpers/net.js';
import { SHARED_REDIS_URL } from '../helpers/redis.js';
import { startHarness, useFixture } from './harness.js';

/** Opens a raw client; resolves with the close code and reason it gets. */
function closeOf(url: string, onOpen: (ws: WebSocket) => void = () => {}): Promise<{ code: number; reason: string; frames: any[] }> {
  const ws = new WebSocket(url);
  const frames: any[] = [];
  ws.on('message', (d) => frames.push(JSON.parse((d as Buffer).toString())));
  ws.on('open', () => onOpen(ws));
  ws.on('error', () => {});
  return new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), frames })));
}

describe('fanout: close codes', function () {
  it('lists every code once, with a reason text a close frame can carry and advice for reconnecting', () => {
    const rows = Object.values(PROTOCOL_CLOSE);
    expect(new Set(rows.map((r) => r.code)).size).to.equal(rows.length);
    for (const r of rows) {
      expect(Buffer.byteLength(r.reason), r.reason).to.be.at.most(123);
      expect(['resume', 'resume-after-backoff', 'never']).to.include(r.reconnect);
    }
    expect(closeCode(4008)).to.equal(PROTOCOL_CLOSE.slowConsumer);
    expect(CLOSE.slowConsumer).to.include({ code: 4008, reason: 'slow consumer', reconnect: 'resume' });
    // the server closes with the protocol's rows, each counted under a disconnect reason
    expect(Object.keys(CLOSE)).to.deep.equal(Object.keys(PROTOCOL_CLOSE));
    for (const [name, { counted, ...row }] of Object.entries(CLOSE)) {
      expect(row, name).to.deep.equal(PROTOCOL_CLOSE[name as keyof typeof PROTOCOL_CLOSE]);
      expect(['client', 'slow-consumer', 'keepalive', 'abuse', 'shutdown', 'error']).to.include(counted);
    }
    expect(closeCode(1008).reconnect).to.equal('never');
    expect(closeCode(1001).reconnect).to.equal('resume-after-backoff');
    // a code icwatch never sends (a proxy's) is a drop: resume after a backoff
    expect(closeCode(4999)).to.include({ code: 4999, reconnect: 'resume-after-backoff', sentByServer: false });
  });

  describe('sent by the server', () => {
    const f = useFixture('fanout-close', { users: 2 });

    it('closes with messageTooBig (1009) on a frame over 16 × maxClientFrameBytes and counts it as abuse', async () => {
      const closed = await closeOf(f.h.url, (ws) => ws.send('x'.repeat(16 * 4096 + 1)));
      expect(closed).to.include({ code: CLOSE.messageTooBig.code, reason: CLOSE.messageTooBig.reason });
      await waitFor('counted', async () => (await f.h.disconnects(CLOSE.messageTooBig.counted)) === 1);
    });

    it('closes with serverError (1011) when Redis fails while the client is synced, and the client can come back', async () => {
      const broken = new Redis(SHARED_REDIS_URL);
      const h = await startHarness(broken, f.prefix);
      try {
        broken.disconnect(); // every command now fails at once
        const closed = await closeOf(h.url);
        expect(closed).to.include({ code: CLOSE.serverError.code, reason: CLOSE.serverError.reason });
        expect(closeCode(closed.code).reconnect).to.equal('resume-after-backoff');
        await waitFor('counted', async () => (await h.disconnects(CLOSE.serverError.counted)) === 1);
      } finally {
        await h.close();
      }
      // the working fan-out of the fixture serves the same client
      const c = f.h.client();
      await waitFor('synced', () => c.seq === f.writer.seq);
    });
  });
});
