/**
 * icwatch/client acts on the close table's advice (README, "Close codes"), against a real fan-out over real Redis
 * and real sockets: after a close whose advice is `never` (1008, 1009) it does not reconnect and says why; after
 * 4008 (slow consumer) it resumes with since/epoch at once, without a backoff and without a reset. A close that
 * advises a backoff, or that the table does not list (a proxy's), is followed by the backoff (a bare WebSocket
 * server that closes every connection: icwatch itself sends no such codes on demand).
 */
import { expect } from 'chai';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { IcwatchClient, type ConnectionEndedError } from '../../src/client/index.js';
import { CLOSE } from '../../src/protocol/close-codes.js';
import type { Harness } from '../fanout/harness.js';
import { useFixture } from '../fanout/harness.js';
import { waitFor } from '../helpers/net.js';

/** Every upgrade request the fan-out's HTTP server sees: when, and with which query. */
function watchUpgrades(h: Harness): { at: number; url: URL }[] {
  const seen: { at: number; url: URL }[] = [];
  h.server.on('upgrade', (req: IncomingMessage) => seen.push({ at: performance.now(), url: new URL(req.url ?? '/', 'ws://fanout') }));
  return seen;
}

describe('icwatch/client: the close table decides whether and when it reconnects', function () {
  this.timeout(30000);

  describe("advice 'never'", () => {
    // The harness's clients back off from 20 ms doubling to 200 ms, and the server closes after 3 bad frames.
    const f = useFixture('client-never', { users: 3 });

    for (const { close, send } of [
      { close: CLOSE.policyViolation, send: (socket: { send(d: string): void }) => [1, 2, 3, 4].forEach(() => socket.send('not a frame')) },
      { close: CLOSE.messageTooBig, send: (socket: { send(d: string): void }) => socket.send('x'.repeat(16 * 4096 + 1)) },
    ]) {
      it(`does not reconnect after ${close.code} and tells its user the code and reason`, async () => {
        const upgrades = watchUpgrades(f.h);
        const c = f.h.client();
        await waitFor('live', () => c.state === 'live' && c.seq === f.writer.seq);
        expect(upgrades).to.have.length(1);
        const ended: ConnectionEndedError[] = [];
        c.on('ended', (err: ConnectionEndedError) => ended.push(err));
        const states: string[] = [];
        c.on('state', (state: string) => states.push(state));
        const closed = new Promise<number>((resolve) => c.once('close', resolve));

        send(c.socket!);
        expect(await closed).to.equal(close.code);
        await sleep(2000); // ten times its longest backoff
        expect(upgrades, 'no connection after the close').to.have.length(1);
        expect(f.h.fanout.clientCount).to.equal(0);
        expect(states).to.deep.equal(['refused']);
        expect(c.state).to.equal('refused');
        expect(ended).to.have.length(1);
        expect(ended[0]).to.include({ code: close.code, reason: close.reason });
        expect(ended[0]!.message).to.include(String(close.code));
      });
    }
  });

  describe("advice 'resume'", () => {
    // A bound small enough that one large change passes it: the live client is closed with 4008 at once.
    const f = useFixture('client-resume', { users: 3, fanout: { maxBufferedBytes: 2048 } });

    it('resumes with since/epoch within 100 ms of a 4008, without a reset, and loses nothing', async () => {
      const upgrades = watchUpgrades(f.h);
      // A backoff that would show: 2 s before any reconnect the backoff decides.
      const c = f.h.client({ backoff: { initialMs: 2000, maxMs: 2000, multiplier: 1, jitter: 0 } });
      await waitFor('live on both ends', () => c.state === 'live' && c.seq === f.writer.seq && f.h.fanout.liveClientCount === 1);
      const { seq, epoch } = c;
      const snapshots = c.counts.snapshot;
      let closedAt = 0;
      const closes: number[] = [];
      c.on('close', (code: number) => {
        closedAt = performance.now();
        closes.push(code);
      });

      await f.writer.upsert('u1', { notes: 'x'.repeat(4096) });
      await waitFor('the client back at the last seq', () => c.seq === f.writer.seq && c.state === 'live', 10000);
      expect(closes).to.deep.equal([CLOSE.slowConsumer.code]);
      expect(upgrades).to.have.length(2);
      const resumedAfter = upgrades[1]!.at - closedAt;
      expect(resumedAfter, `the next upgrade ${resumedAfter.toFixed(1)} ms after the close`).to.be.below(100);
      expect(upgrades[1]!.url.searchParams.get('since')).to.equal(String(seq));
      expect(upgrades[1]!.url.searchParams.get('epoch')).to.equal(epoch);
      expect(c.counts.reset ?? 0).to.equal(0);
      expect(c.counts.snapshot).to.equal(snapshots);
      expect(c.get('u1')).to.deep.include({ notes: 'x'.repeat(4096) });
      expect(await f.h.disconnects('slow-consumer')).to.equal(1);
    });
  });

  describe("advice 'resume-after-backoff', and codes the table does not list", () => {
    for (const { code, what } of [
      { code: CLOSE.serverError.code, what: '1011 (server error)' },
      { code: 4999, what: 'a code the table does not list (4999)' },
      { code: CLOSE.slowConsumer.code, what: '4008 before the hello (a server that closes every connection at once)' },
    ]) {
      it(`backs off with jitter after ${what}`, async () => {
        const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
        await new Promise<void>((resolve) => server.once('listening', resolve));
        const connections: number[] = [];
        server.on('connection', (socket) => {
          connections.push(performance.now());
          socket.close(code, 'closed by the test');
        });
        const c = new IcwatchClient({
          url: `ws://127.0.0.1:${(server.address() as { port: number }).port}/v1/users`,
          backoff: { initialMs: 400, maxMs: 400, multiplier: 2, jitter: 0.5 },
        });
        const ended: unknown[] = [];
        c.on('ended', (err) => ended.push(err));
        c.on('error', () => {});
        try {
          c.start();
          await waitFor('three connections', () => connections.length >= 3, 5000);
          for (let i = 1; i < connections.length; i++) {
            // 400 ms jittered down by up to half of it: never sooner than 200 ms.
            expect(connections[i]! - connections[i - 1]!, `connection ${i + 1}`).to.be.at.least(190);
          }
          expect(ended).to.deep.equal([]);
        } finally {
          await c.stop();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
      });
    }
  });
});
