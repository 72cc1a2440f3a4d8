/**
 * A client's life as one state: each connecting or syncing run is cancelled by the next one or by closing, so an
 * outdated run can never move the client on; and the follower wakes those waiting for it instead of being polled.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { Redis } from 'ioredis';
import WebSocket, { WebSocketServer } from 'ws';
import { silentLogger } from '../../src/log/logger.js';
import { CLOSE } from '../../src/fanout/close-codes.js';
import { ChangeFollower } from '../../src/fanout/follower.js';
import { ClientSession } from '../../src/fanout/session.js';
import { MirrorReader } from '../../src/mirror/reader.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { LayoutWriter } from './layout.js';

/** A real server-side WebSocket and its socket, with the client's end. */
async function connectedPair(): Promise<{ ws: WebSocket; socket: Duplex; peer: WebSocket; close: () => Promise<void> }> {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const accepted = new Promise<{ ws: WebSocket; socket: Duplex }>((resolve) => {
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => resolve({ ws, socket })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const peer = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}/`);
  peer.on('error', () => {});
  const { ws, socket } = await accepted;
  return {
    ws,
    socket,
    peer,
    close: async () => {
      peer.terminate();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const request = { since: null, epoch: null, ids: null, props: null };
const counters = () => ({ rounds: 0, clientsVisited: 0, writes: 0, heldBack: 0 });

describe('fanout: a client session', () => {
  it('goes connecting → syncing → live; a newer run aborts the older, which can no longer move the client', async () => {
    const pair = await connectedPair();
    try {
      const c = new ClientSession(pair.ws, pair.socket, request, 1 << 20, counters(), () => {});
      expect(c.phase.name).to.equal('connecting');
      const first = c.connectSignal;
      c.continueSync('snapshot', first);
      expect(c.phase).to.include({ name: 'syncing', via: 'snapshot' });
      const second = c.startSync('snapshot')!;
      expect(first.aborted).to.equal(true);
      expect(() => c.goLive(first)).to.throw();
      expect(c.phase).to.include({ name: 'syncing', via: 'snapshot' });
      c.continueSync('catch-up', second);
      c.goLive(second);
      expect(c.phase.name).to.equal('live');

      const third = c.startSync('snapshot')!; // a reset of a live client
      const closed = new Promise<number>((r) => pair.peer.on('close', (code) => r(code)));
      c.close(CLOSE.slowConsumer, 5000);
      expect(third.aborted).to.equal(true);
      expect(c.phase).to.deep.equal({ name: 'closing', reason: 'slow-consumer' });
      expect(c.startSync('snapshot')).to.equal(null);
      expect(await closed).to.equal(CLOSE.slowConsumer.code);
      expect(c.ended()).to.equal('slow-consumer');
    } finally {
      await pair.close();
    }
  });

  it('counts a connection the client ended as `client`', async () => {
    const pair = await connectedPair();
    try {
      const c = new ClientSession(pair.ws, pair.socket, request, 1 << 20, counters(), () => {});
      const signal = c.connectSignal;
      const gone = new Promise<void>((r) => pair.ws.on('close', () => r()));
      pair.peer.close(1000);
      await gone;
      expect(c.ended()).to.equal('client');
      expect(signal.aborted).to.equal(true);
    } finally {
      await pair.close();
    }
  });
});

describe('fanout: the change follower', () => {
  let redis: Redis;
  let prefix: string;
  let follower: ChangeFollower;

  beforeEach(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('follower');
  });
  afterEach(async () => {
    await follower.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('wakes a waiter once it has read further, and rejects one whose signal is aborted', async () => {
    const writer = new LayoutWriter(redis, prefix);
    await writer.init();
    const pages: number[] = [];
    follower = new ChangeFollower({
      reader: new MirrorReader(redis, prefix),
      createSubscriber: () => new Redis(SHARED_REDIS_URL),
      pageEntries: 100,
      pollIntervalMs: 60000,
      logger: silentLogger(),
      onPage: (p) => void pages.push(p.toSeq),
      onReset: () => {},
    });
    await follower.start();
    const waiting = follower.advanced(new AbortController().signal);
    const abort = new AbortController();
    const abandoned = follower.advanced(abort.signal);
    abort.abort(new Error('the client left'));
    const why = await abandoned.then(
      () => null,
      (err: Error) => err.message,
    );
    expect(why).to.equal('the client left');
    const seq = await writer.upsert('u1', { extension: '1' }); // published on notify: the follower reads it
    await waiting;
    expect(follower.headSeq).to.equal(seq);
    expect(pages).to.deep.equal([seq]);
  });
});
