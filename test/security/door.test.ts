/**
 * The door every read goes through (README "Security"), on the daemon's HTTP server and fan-out over a real mirror:
 * scoped tokens on every read (WebSocket snapshot and live changes, GET /v1/users, by id, by index), props= outside
 * the scope (403 naming it), Host on a loopback bind (DNS rebinding), Origin (Cross-Site WebSocket Hijacking),
 * /metrics and /v1/status behind the token, the page's headers, and the token in the subprotocol.
 */
import { expect } from 'chai';
import type { IncomingMessage } from 'node:http';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { bearerProtocols } from '../../src/client/transport.js';
import { withoutHostNames } from '../../src/http/server.js';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { LayoutWriter } from '../fanout/layout.js';
import { get, startReadsServer, type ReadsServer } from '../http/harness.js';

const FULL = 'full-token-8c1e';
const SCOPED = 'scoped-token-77aa';
const SCOPE = ['extension', 'statusText'];
/** The property a scoped token must never see, and a marker of its values. */
const SECRET_PROP = 'mobilePhone';
const MARK = '+44-SECRET';

interface Upgrade {
  status: number;
  body: string;
  protocol?: string;
  frames: Record<string, unknown>[];
  ws?: WebSocket;
}

/** Opens a WebSocket and collects its frames; resolves once open (or refused). */
function connect(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<Upgrade> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {}, perMessageDeflate: false });
    const out: Upgrade = { status: 0, body: '', frames: [] };
    ws.on('message', (d: Buffer) => out.frames.push(JSON.parse(d.toString('utf8')) as Record<string, unknown>));
    ws.on('upgrade', (res: IncomingMessage) => {
      out.status = res.statusCode ?? 0;
      out.protocol = res.headers['sec-websocket-protocol'];
    });
    ws.on('open', () => resolve({ ...out, ws, frames: out.frames }));
    ws.on('unexpected-response', (_req, res) => {
      out.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (d: string) => (out.body += d));
      res.on('end', () => resolve(out));
    });
    ws.on('error', () => resolve(out));
  });
}

describe('security: who may read', function () {
  this.timeout(30000);
  let redis: Redis;
  let prefix: string;
  let writer: LayoutWriter;
  let s: ReadsServer;
  let ws: string;
  const open: WebSocket[] = [];

  before(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('security-door');
    writer = new LayoutWriter(redis, prefix);
    await writer.init();
    for (let i = 0; i < 20; i++) await writer.upsert(`u${i}`, { extension: String(1000 + i), statusText: 'Available', [SECRET_PROP]: `${MARK}-${i}` });
    // The mirror holds SECRET_PROP (so props= naming it is not the 400 of an unmirrored property): only the scope hides it.
    s = await startReadsServer(
      redis,
      prefix,
      [FULL, { token: SCOPED, props: SCOPE }],
      { loopbackOnly: true, allowedOrigins: ['https://dash.example.com'], allowedHosts: ['icwatch.internal'] },
      {},
      [...DEFAULTS.subscription.properties, SECRET_PROP],
    );
    ws = `${s.base.replace('http:', 'ws:')}/v1/users`;
  });
  after(async () => {
    for (const w of open) w.terminate();
    await s.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  const keep = (u: Upgrade) => {
    if (u.ws) open.push(u.ws);
    return u;
  };
  const users = (frames: Record<string, unknown>[]) => frames.filter((f) => f.type === 'snapshot').flatMap((f) => f.users as Record<string, unknown>[]);
  const snapshotDone = (u: Upgrade) => waitFor('the last snapshot chunk', () => u.frames.some((f) => f.type === 'snapshot' && f.last), 10000);

  it('a scoped token never receives a property outside its props over the WebSocket: snapshot and live changes', async () => {
    const scoped = keep(await connect(ws, { headers: { authorization: `Bearer ${SCOPED}` } }));
    const full = keep(await connect(ws, { headers: { authorization: `Bearer ${FULL}` } }));
    expect(scoped.status).to.equal(101);
    await snapshotDone(scoped);
    await snapshotDone(full);
    expect(users(scoped.frames)).to.have.length(20);
    for (const u of users(scoped.frames)) expect(Object.keys(u).sort()).to.deep.equal(['extension', 'id', 'statusText']);
    expect(users(full.frames)[0]).to.have.property(SECRET_PROP);

    await writer.upsert('u3', { statusText: 'Busy', [SECRET_PROP]: `${MARK}-changed` });
    await writer.upsert('u4', { [SECRET_PROP]: `${MARK}-only` });
    await writer.upsert('u5', { extension: '2005' });
    await waitFor('the full client to see the three changes', () => full.frames.filter((f) => f.type === 'upsert').length >= 3, 10000);
    await waitFor('the scoped client to see u5', () => scoped.frames.some((f) => f.type === 'upsert' && f.id === 'u5'), 10000);
    const changes = scoped.frames.filter((f) => f.type === 'upsert');
    expect(changes.find((f) => f.id === 'u3')!.data).to.deep.equal({ statusText: 'Busy' });
    expect(changes.map((f) => f.id)).not.to.include('u4'); // nothing of it was in scope
    expect(JSON.stringify(scoped.frames)).not.to.include(MARK).and.not.to.include(SECRET_PROP);

    // props= within the scope narrows it; outside it the upgrade is refused, naming the property
    const narrowed = keep(await connect(`${ws}?props=id,extension`, { headers: { authorization: `Bearer ${SCOPED}` } }));
    await snapshotDone(narrowed);
    for (const u of users(narrowed.frames)) expect(Object.keys(u).sort()).to.deep.equal(['extension', 'id']);
    const refused = await connect(`${ws}?props=extension,${SECRET_PROP}`, { headers: { authorization: `Bearer ${SCOPED}` } });
    expect(refused.status).to.equal(403);
    expect(JSON.parse(refused.body)).to.include({ parameter: 'props' });
    expect(JSON.parse(refused.body).error).to.include(SECRET_PROP);
  });

  it('a scoped token never receives a property outside its props over HTTP: the list, by id, by index', async () => {
    const auth = { authorization: `Bearer ${SCOPED}` };
    await redis.hset(writer.keys.index('extension'), '1001', 'u1'); // the layout writer keeps no index itself
    for (const path of ['/v1/users', '/v1/users/u1', '/v1/users?extension=1001', '/v1/users?ids=u1,u2']) {
      const a = await get(`${s.base}${path}`, auth);
      expect(a.status, path).to.equal(200);
      expect(a.body.toString(), path).not.to.include(MARK).and.not.to.include(SECRET_PROP);
      const some = (a.json.users ?? [a.json]) as Record<string, unknown>[];
      expect(some.length, path).to.be.greaterThan(0);
      for (const u of some) expect(Object.keys(u).sort(), path).to.deep.equal(['extension', 'id', 'statusText']);
    }
    expect((await get(`${s.base}/v1/users/u1`, { authorization: `Bearer ${FULL}` })).json).to.have.property(SECRET_PROP);
    for (const path of [`/v1/users?props=${SECRET_PROP}`, `/v1/users/u1?props=extension,${SECRET_PROP}`, `/v1/users?extension=1001&props=${SECRET_PROP}`]) {
      const a = await get(`${s.base}${path}`, auth);
      expect(a.status, path).to.equal(403);
      expect(a.json.error, path).to.include(SECRET_PROP);
      expect(a.json.parameter, path).to.equal('props');
    }
    expect((await get(`${s.base}/v1/users?props=id,statusText`, auth)).json.users[0]).to.have.keys('id', 'statusText');
  });

  it('refuses Host: attacker.example on a loopback bind (DNS rebinding), on every read and the upgrade', async () => {
    const headers = { host: 'attacker.example', authorization: `Bearer ${FULL}` };
    for (const path of ['/v1/users', '/v1/users/u1', '/v1/status', '/metrics', '/', '/assets/page.js']) {
      const a = await get(`${s.base}${path}`, headers);
      expect(a.status, path).to.equal(403);
      expect(a.body.toString(), path).not.to.include(MARK);
      expect(a.json.parameter, path).to.equal('Host');
    }
    const upgrade = await connect(ws, { headers });
    expect(upgrade.status).to.equal(403);
    expect(upgrade.frames).to.have.length(0);
    // probes stay open; loopback names and http.allowedHosts are answered
    expect((await get(`${s.base}/healthz`, { host: 'attacker.example' })).status).to.equal(200);
    for (const host of [`localhost:${s.http.port}`, `127.0.0.1:${s.http.port}`, `[::1]:${s.http.port}`, 'icwatch.internal:8080'])
      expect((await get(`${s.base}/v1/users/u1`, { host, authorization: `Bearer ${FULL}` })).status, host).to.equal(200);
  });

  it('refuses a cross-origin Origin on the upgrade and on HTTP reads; its own origin and allowedOrigins pass', async () => {
    const auth = { authorization: `Bearer ${FULL}` };
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${s.http.port! + 1}`, 'https://dash.example.com.evil.example']) {
      const upgrade = await connect(ws, { headers: { ...auth, origin } });
      expect(upgrade.status, origin).to.equal(403);
      expect(upgrade.frames, origin).to.have.length(0);
      expect(JSON.parse(upgrade.body).parameter, origin).to.equal('Origin');
      for (const path of ['/v1/users', '/v1/status', '/metrics']) {
        const a = await get(`${s.base}${path}`, { ...auth, origin });
        expect(a.status, `${origin} ${path}`).to.equal(403);
        expect(a.body.toString()).not.to.include(MARK);
      }
    }
    for (const origin of [s.base, 'https://dash.example.com']) {
      const upgrade = keep(await connect(ws, { headers: { ...auth, origin } }));
      expect(upgrade.status, origin).to.equal(101);
      expect((await get(`${s.base}/v1/users/u1`, { ...auth, origin })).status, origin).to.equal(200);
    }
  });

  it('takes the token from the icwatch.bearer subprotocol and selects icwatch.v1, never echoing the token', async () => {
    const good = keep(await connect(ws, { protocols: bearerProtocols(SCOPED) }));
    expect(good.status).to.equal(101);
    expect(good.protocol).to.equal('icwatch.v1');
    expect(good.ws!.protocol).to.equal('icwatch.v1');
    await snapshotDone(good);
    for (const u of users(good.frames)) expect(u).not.to.have.property(SECRET_PROP);
    expect((await connect(ws, { protocols: bearerProtocols('not-a-token') })).status).to.equal(401);
    expect((await connect(ws)).status).to.equal(401);
    // a token with characters outside base64url's alphabet travels too
    expect(bearerProtocols('ä+/=x')[1]).to.match(/^icwatch\.bearer\.[A-Za-z0-9_-]+$/);
  });

  it('keeps /metrics and /v1/status behind the token; /healthz and /readyz stay open', async () => {
    for (const path of ['/metrics', '/v1/status']) {
      expect((await get(`${s.base}${path}`)).status, path).to.equal(401);
      expect((await get(`${s.base}${path}`, { authorization: 'Bearer wrong' })).status, path).to.equal(401);
      expect((await get(`${s.base}${path}`, { authorization: `Bearer ${FULL}` })).status, path).to.equal(200);
      expect((await get(`${s.base}${path}`, { authorization: `Bearer ${SCOPED}` })).status, path).to.equal(200);
    }
    expect((await get(`${s.base}/healthz`)).status).to.equal(200);
    expect((await get(`${s.base}/readyz`)).status).to.equal(200);
  });

  it('serves the page with its security headers and, with tokens, no data of the directory in it', async () => {
    for (const path of ['/', '/assets/page.css', '/assets/page.js']) {
      const a = await get(`${s.base}${path}`);
      expect(a.status, path).to.equal(200);
      const csp = String(a.headers['content-security-policy']);
      expect(csp, path).to.include("default-src 'self'").and.include("frame-ancestors 'none'");
      expect(csp, path).to.match(new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${s.http.port} wss://127\\.0\\.0\\.1:${s.http.port}`));
      expect(a.headers['x-content-type-options'], path).to.equal('nosniff');
      expect(a.headers['referrer-policy'], path).to.equal('no-referrer');
    }
    const html = (await get(`${s.base}/`)).body.toString();
    expect(html).not.to.match(/<style|style=|<script>/);
    expect(html).not.to.include(MARK);
  });

  it('says why /readyz is not ready without host names or replica ids', () => {
    expect(withoutHostNames('connecting to ic1.example.com (attempt 3)')).to.equal('connecting to <host> (attempt 3)');
    expect(withoutHostNames('connecting to ic1 (attempt 3)')).to.equal('connecting to <host> (attempt 3)');
    expect(withoutHostNames('connect ECONNREFUSED 10.1.2.3:8019')).not.to.include('10.1.2.3');
    expect(withoutHostNames('GET https://ic1.example.com:8019/icws/connection failed')).not.to.include('ic1');
    const standby = withoutHostNames('standby: the leader is node-a-123-x9 (this replica: node-b-456-y7)');
    expect(standby).not.to.include('node-a').and.not.to.include('node-b');
    expect(withoutHostNames('authentication failed')).to.equal('authentication failed');
    expect(withoutHostNames('authentication failed: check icws.user and icws.password')).to.equal('authentication failed: check icws.user and icws.password');
  });
});
