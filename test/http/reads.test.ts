/**
 * HTTP reads (GET /v1/users, /v1/users/<id>, ?extension=): consistent at one seq, resumable over the WebSocket from
 * that seq, ETag / 304, compression, the body built once per seq, and the refusals (400, 401, 404).
 */
import { expect } from 'chai';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { IcwatchClient } from '../../src/client/index.js';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, startPrivateRedis, uniquePrefix } from '../helpers/redis.js';
import { LayoutWriter, plain, randomOp, seeded, type Props } from '../fanout/layout.js';
import { expectBadParameters, get, startReadsServer, type ReadsServer } from './harness.js';

const asMap = (users: ({ id: string } & Props)[]) => new Map(users.map(({ id, ...p }) => [id, p]));

describe('HTTP reads of the directory', function () {
  let redis: Redis;
  let prefix: string;
  let writer: LayoutWriter;
  let s: ReadsServer;
  const clients: IcwatchClient[] = [];

  beforeEach(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('http-reads');
    writer = new LayoutWriter(redis, prefix, { keepHistory: true });
    await writer.init();
    for (let i = 0; i < 40; i++) await writer.upsert(`u${i}`, { extension: String(1000 + i), statusText: 'Available' });
    s = await startReadsServer(redis, prefix);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    await s.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('answers the mirror as of one seq with ETag "<epoch>:<seq>", also while it changes', async () => {
    const first = await get(`${s.base}/v1/users`);
    expect(first.status).to.equal(200);
    expect(first.json.epoch).to.equal(writer.epoch);
    expect(first.json.seq).to.equal(writer.seq);
    expect(first.headers.etag).to.equal(`"${writer.epoch}:${writer.seq}"`);
    expect(first.headers['x-icwatch-seq']).to.equal(String(writer.seq));
    expect(plain(asMap(first.json.users))).to.deep.equal(plain(writer.users));

    const rand = seeded(3);
    const storm = (async () => {
      for (let i = 0; i < 120; i++) await writer.apply([randomOp(rand, 50), randomOp(rand, 50)]);
    })();
    const seen = new Set<number>();
    while (!(await Promise.race([storm.then(() => true), new Promise((r) => setTimeout(() => r(false), 5))]))) {
      const a = await get(`${s.base}/v1/users`);
      seen.add(a.json.seq);
      expect(plain(asMap(a.json.users)), `the body at seq ${a.json.seq}`).to.deep.equal(plain(writer.history.get(a.json.seq)!));
    }
    expect(seen.size, 'reads at several seqs').to.be.greaterThan(3);
  });

  it('a GET at seq S, then the WebSocket with since=S&epoch, holds exactly the mirror at every later seq', async () => {
    const rand = seeded(11);
    const mismatches: string[] = [];
    let checks = 0;
    const storm = (async () => {
      for (let i = 0; i < 100; i++) {
        await writer.apply([randomOp(rand, 50), randomOp(rand, 50)]);
        if (i % 20 === 0) {
          const c = new IcwatchClient({ url: s.base, snapshot: 'http', backoff: { initialMs: 20, maxMs: 200, multiplier: 2, jitter: 0.5 } });
          const check = (seq: number) => {
            checks++;
            if (JSON.stringify(plain(c.users)) !== JSON.stringify(plain(writer.history.get(seq)!)))
              mismatches.push(`client ${clients.indexOf(c)} at seq ${seq}`);
          };
          c.on('synced', check);
          c.on('change', (ch) => check(ch.seq));
          clients.push(c.start());
        }
      }
    })();
    await storm;
    for (const c of clients) await waitFor('each client at the last seq', () => c.seq === writer.seq);
    expect(mismatches).to.deep.equal([]);
    expect(checks).to.be.greaterThan(200);
    for (const c of clients) {
      expect(c.counts.http, 'one HTTP snapshot').to.equal(1);
      expect(c.counts.snapshot ?? 0, 'no WebSocket snapshot').to.equal(0);
      expect(c.counts.reset ?? 0).to.equal(0);
    }

    // and on the wire: the frames after hello are exactly S+1, S+2, … with no snapshot
    const snap = await get(`${s.base}/v1/users`);
    const S = snap.json.seq as number;
    for (let i = 0; i < 5; i++) await writer.upsert(`u${i}`, { statusText: `after ${i}` });
    const frames: { type: string; seq?: number }[] = [];
    const ws = new WebSocket(`${s.base.replace('http', 'ws')}/v1/users?since=${S}&epoch=${snap.json.epoch}`);
    ws.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString('utf8')) as { type: string; seq?: number }));
    await waitFor('the missed changes', () => frames.length === 6);
    ws.close();
    expect(frames.map((f) => f.type)).to.deep.equal(['hello', 'upsert', 'upsert', 'upsert', 'upsert', 'upsert']);
    expect(frames.slice(1).map((f) => f.seq)).to.deep.equal([S + 1, S + 2, S + 3, S + 4, S + 5]);
  });

  it('answers 304 to a matching If-None-Match, and 200 with a new ETag once the mirror moved', async () => {
    const a = await get(`${s.base}/v1/users`);
    const b = await get(`${s.base}/v1/users`, { 'if-none-match': a.headers.etag! });
    expect(b.status).to.equal(304);
    expect(b.body.length).to.equal(0);
    expect(b.headers.etag).to.equal(a.headers.etag);
    await writer.upsert('u1', { statusText: 'Away' });
    const c = await get(`${s.base}/v1/users`, { 'if-none-match': a.headers.etag! });
    expect(c.status).to.equal(200);
    expect(c.headers.etag).to.equal(`"${writer.epoch}:${writer.seq}"`);
    expect(c.json.users.find((u: { id: string }) => u.id === 'u1').statusText).to.equal('Away');
  });

  it('compresses with gzip or br when asked, from one body built once per seq', async () => {
    const plainAnswer = await get(`${s.base}/v1/users`);
    expect(plainAnswer.headers['content-encoding']).to.equal(undefined);
    const builds = s.http.reads!.builds.builds;
    const gz = await get(`${s.base}/v1/users`, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).to.equal('gzip');
    expect(gz.headers.vary).to.equal('Accept-Encoding');
    expect(gz.body.length).to.be.lessThan(plainAnswer.body.length);
    expect(gunzipSync(gz.body).equals(plainAnswer.body)).to.equal(true);
    const br = await get(`${s.base}/v1/users`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).to.equal('br');
    expect(brotliDecompressSync(br.body).equals(plainAnswer.body)).to.equal(true);
    const refused = await get(`${s.base}/v1/users`, { 'accept-encoding': 'br;q=0, gzip;q=0' });
    expect(refused.headers['content-encoding']).to.equal(undefined);
    await Promise.all(Array.from({ length: 10 }, () => get(`${s.base}/v1/users`, { 'accept-encoding': 'gzip' })));
    expect(s.http.reads!.builds.builds, 'no new body for the same seq').to.equal(builds);
    await writer.upsert('u2', { statusText: 'Away' });
    await get(`${s.base}/v1/users`);
    expect(s.http.reads!.builds.builds).to.equal(builds + 1);
  });

  it('filters by ids and props, reads one user, and looks users up through the index', async () => {
    const some = await get(`${s.base}/v1/users?ids=u3,u1,nobody&props=extension`);
    expect(some.json.users).to.deep.equal([
      { id: 'u3', extension: '1003' },
      { id: 'u1', extension: '1001' },
    ]);

    const one = await get(`${s.base}/v1/users/u5`);
    expect(one.status).to.equal(200);
    expect(one.json).to.deep.equal({ id: 'u5', ...writer.users.get('u5') });
    expect(one.headers['x-icwatch-seq']).to.equal(String(writer.seq));
    const narrow = await get(`${s.base}/v1/users/u5?props=statusText`);
    expect(narrow.json).to.deep.equal({ id: 'u5', statusText: 'Available' });

    await redis.hset(writer.keys.index('extension'), '1007', 'u7');
    const found = await get(`${s.base}/v1/users?extension=1007`);
    expect(found.status).to.equal(200);
    expect(found.json).to.deep.equal({ epoch: writer.epoch, seq: writer.seq, users: [{ id: 'u7', ...writer.users.get('u7') }] });
    const none = await get(`${s.base}/v1/users?extension=9999&props=extension`);
    expect(none.json.users).to.deep.equal([]);
  });

  it('answers 404 for a user that is not there, and 400 naming the problem for bad parameters', async () => {
    const missing = await get(`${s.base}/v1/users/nobody`);
    expect(missing.status).to.equal(404);
    expect(missing.json.error).to.include('nobody');
    expect(missing.headers['x-icwatch-seq']).to.equal(String(writer.seq));
    const cases: [string, string][] = [
      ['/v1/users?since=3', 'since'],
      ['/v1/users?colour=red', 'colour'],
      ['/v1/users?props=not-a-prop', 'props'],
      ['/v1/users?ids=a,,b', 'ids'],
      ['/v1/users?ids=u1&ids=u2', 'ids'],
      ['/v1/users?extension=', 'extension'],
      ['/v1/users?extension=1&ids=u1', 'ids'],
      ['/v1/users/u1?ids=u1', 'ids'],
      ['/v1/users/%E0%A4%A', 'id'],
    ];
    await expectBadParameters(s.base, cases);
    expect((await get(`${s.base}/v1/users/a/b`)).status).to.equal(404);
  });
});

describe('HTTP reads with tokens', function () {
  let redis: Redis;
  let prefix: string;
  let s: ReadsServer;

  before(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('http-tokens');
    const writer = new LayoutWriter(redis, prefix);
    await writer.init();
    await writer.upsert('u1', { extension: '1001' });
    s = await startReadsServer(redis, prefix, ['read-token']);
  });
  after(async () => {
    await s.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('answers 401 without a token or with another one, and 200 with it (header or access_token)', async () => {
    for (const path of ['/v1/users', '/v1/users/u1', '/v1/users?extension=1001', '/v1/status', '/metrics']) {
      const none = await get(`${s.base}${path}`);
      expect(none.status, path).to.equal(401);
      expect(none.headers['www-authenticate'], path).to.include('Bearer');
      expect((await get(`${s.base}${path}`, { authorization: 'Bearer wrong' })).status, path).to.equal(401);
      expect((await get(`${s.base}${path}`, { authorization: 'Bearer read-token' })).status, path).to.equal(200);
      const sep = path.includes('?') ? '&' : '?';
      expect((await get(`${s.base}${path}${sep}access_token=read-token`)).status, path).to.equal(200);
    }
    const bad = await get(`${s.base}/v1/users`);
    expect(bad.json).to.deep.include({ error: 'a token is required' });
    // the token check comes first: a bad query without a token says nothing about the query
    expect((await get(`${s.base}/v1/users?colour=red`)).status).to.equal(401);
  });
});

describe('HTTP reads while Redis is away', function () {
  this.timeout(30000);

  it('answer 503 naming the problem, and serve again once Redis is back', async () => {
    const server = await startPrivateRedis({ persist: true });
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on('error', () => {});
    const prefix = uniquePrefix('http-away');
    const writer = new LayoutWriter(redis, prefix);
    await writer.init();
    await writer.upsert('u1', { extension: '1001' });
    const s = await startReadsServer(redis, prefix);
    try {
      expect((await get(`${s.base}/v1/users`)).status).to.equal(200);
      await server.stop();
      for (const path of ['/v1/users', '/v1/users/u1', '/v1/users?extension=1001']) {
        const a = await get(`${s.base}${path}`);
        expect(a.status, path).to.equal(503);
        expect(a.json.error, path).to.match(/^the mirror cannot be read right now/);
      }
      await server.start();
      await waitFor('reads again', async () => (await get(`${s.base}/v1/users/u1`)).status === 200, 15000, 200);
    } finally {
      await s.close().catch(() => {});
      redis.disconnect();
      await server.destroy();
    }
  });
});
