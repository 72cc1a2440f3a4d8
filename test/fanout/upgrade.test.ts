/** The upgrade request: token auth (401), bad queries (400), other paths (404); client frames and abuse. */
import { expect } from 'chai';
import http from 'node:http';
import WebSocket from 'ws';
import { CLOSE } from '../../src/fanout/close-codes.js';
import { waitFor } from '../helpers/net.js';
import { useFixture } from './harness.js';

/** The HTTP answer to an upgrade request that the server refuses. */
function refusal(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: body ? JSON.parse(body) : null, headers: res.headers }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode!, body: null, headers: res.headers });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('fanout: upgrade requests and client frames', function () {
  const TOKEN = 'sekret-token-1';
  const f = useFixture('fanout-up', { users: 1, fanout: { tokens: [TOKEN, 'another-token'] } });

  it('refuses a missing or wrong token with 401 and accepts a header or access_token', async () => {
    const none = await refusal(f.h.port, '/v1/users');
    expect(none.status).to.equal(401);
    expect(none.body.error).to.equal('a token is required');
    expect(none.headers['www-authenticate']).to.match(/^Bearer/);
    const wrong = await refusal(f.h.port, '/v1/users', { Authorization: 'Bearer nope' });
    expect(wrong.status).to.equal(401);
    expect(JSON.stringify(wrong.body)).to.not.include('nope');
    expect((await refusal(f.h.port, '/v1/users?access_token=bad')).status).to.equal(401);
    expect((await refusal(f.h.port, '/v1/users', { Authorization: `Bearer ${TOKEN}` })).status).to.equal(101);
    expect((await refusal(f.h.port, '/v1/users?access_token=another-token')).status).to.equal(101);

    const c = f.h.client({ token: TOKEN });
    await waitFor('synced', () => c.seq === 1);
    const refused = f.h.client({ token: 'bad-token' });
    const err = await new Promise<any>((r) => refused.once('refused', r));
    expect(err.status).to.equal(401);
  });

  it('refuses bad queries with 400 naming the parameter, and other paths with 404', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const cases: Array<[string, string]> = [
      ['since=abc', 'since'],
      ['since=-1', 'since'],
      ['since=1.5', 'since'],
      ['ids=', 'ids'],
      ['ids=a,,b', 'ids'],
      ['props=extension,1bad', 'props'],
      ['props=status-text', 'props'],
      ['color=red', 'color'],
      ['since=1&since=2', 'since'],
      ['epoch=' + encodeURIComponent('a b'), 'epoch'],
      ['ids=' + Array.from({ length: 1001 }, (_, i) => `u${i}`).join(','), 'ids'],
    ];
    for (const [query, parameter] of cases) {
      const r = await refusal(f.h.port, `/v1/users?${query}`, auth);
      expect(r.status, query).to.equal(400);
      expect(r.body.parameter, query).to.equal(parameter);
      expect(r.body.expected, query).to.be.a('string');
      expect(r.body.error, query).to.be.a('string');
    }
    const other = await refusal(f.h.port, '/v2/users', auth);
    expect(other.status).to.equal(404);
  });

  it('answers unknown client frames with an error frame, a ping with a pong, and closes an abuser with 1008', async () => {
    const ws = new WebSocket(`${f.h.url}?access_token=${TOKEN}`);
    const frames: any[] = [];
    ws.on('message', (d) => frames.push(JSON.parse((d as Buffer).toString())));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    await waitFor('snapshot', () => frames.some((f) => f.type === 'snapshot'));
    ws.send(JSON.stringify({ type: 'ping' }));
    ws.send('hello?');
    ws.send('x'.repeat(5000));
    await waitFor('answers', () => frames.length === 5);
    expect(frames.slice(2)).to.deep.equal([
      { type: 'pong' },
      { type: 'error', error: 'not JSON' },
      { type: 'error', error: 'frame of 5000 bytes is larger than 4096' },
    ]);
    ws.send(Buffer.from([1, 2, 3]));
    ws.send('{"type":"subscribe"}');
    expect(await closed).to.equal(CLOSE.policyViolation.code);
    await waitFor('abuse counted', async () => (await f.h.disconnects('abuse')) === 1);
  });

  it('closes every client with 1001 on close() and counts them', async () => {
    const c = f.h.client({ token: TOKEN, reconnect: false });
    await waitFor('synced', () => c.seq === 1);
    expect(f.h.fanout.clientCount).to.equal(1);
    const code = new Promise<number>((r) => c.once('close', r));
    await f.h.fanout.close();
    expect(await code).to.equal(CLOSE.goingAway.code);
    expect(await f.h.disconnects('shutdown')).to.equal(1);
    expect((await f.h.metrics.wsClients.get()).values[0]!.value).to.equal(0);
  });
});

describe('fanout: client limit', function () {
  const f = useFixture('fanout-max', { users: 1, fanout: { maxClients: 1 } });

  it('refuses clients past maxClients with 503, and accepts again once one leaves', async () => {
    const first = f.h.client();
    await waitFor('first synced', () => first.seq === 1);
    const over = await refusal(f.h.port, '/v1/users');
    expect(over.status).to.equal(503);
    expect(over.body).to.deep.equal({ error: 'too many clients', expected: 'at most 1' });
    await first.stop();
    await waitFor('first gone', () => f.h.fanout.clientCount === 0);
    expect((await refusal(f.h.port, '/v1/users')).status).to.equal(101);
  });
});
