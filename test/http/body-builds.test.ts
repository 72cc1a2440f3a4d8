/**
 * Reads cannot be turned into a CPU weapon (README, "HTTP reads"): `props` naming a property the mirror does not hold
 * is a 400 (HTTP and WebSocket); one body build per (seq, query) at a time, shared; the body cache stays within its
 * bounds; builds take turns, in slices, so that a hundred different `props` at 10,000 users leave live changes flowing.
 */
import { expect } from 'chai';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { DEFAULTS } from '../../src/config/defaults.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { LayoutWriter } from '../fanout/layout.js';
import { pickProps } from '../../src/fanout/frames.js';
import { Body } from '../../src/http/body-cache.js';
import { directoryJson } from '../../src/http/users-json.js';
import { BodyBuilds, BuildsBusy } from '../../src/http/body-builds.js';
import type { ReadLimits } from '../../src/http/users-api.js';
import { get, quantile, startReadsServer, subsets, type ReadsServer } from './harness.js';
import { LiveProbe } from './live-probe.js';

/** The upgrade's answer to a WebSocket request: the status, and the JSON body of a refusal. */
function upgradeAnswer(url: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      ws.terminate();
      resolve({ status: 101, body: undefined });
    });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    ws.on('error', reject);
  });
}

describe('HTTP reads: props the mirror holds, and bodies built once, within bounds', function () {
  this.timeout(60000);
  let redis: Redis;
  let prefix: string;
  let writer: LayoutWriter;
  const servers: ReadsServer[] = [];
  const start = async (limits: Partial<ReadLimits> = {}, properties?: string[]) => {
    const s = await startReadsServer(redis, prefix, [], {}, limits, properties);
    servers.push(s);
    return s;
  };

  beforeEach(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('http-bodies');
    writer = new LayoutWriter(redis, prefix);
    await writer.init();
    await writer.apply(
      Array.from({ length: 300 }, (_, i) => ({
        op: 'upsert' as const,
        id: `u${i}`,
        data: { extension: String(1000 + i), statusText: 'Available', workgroups: [{ id: 'Support' }], skills: { effectiveValue: [] } },
      })),
    );
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('refuses props naming a property the subscription does not mirror (400 naming it, listing the allowed), on every read and the WebSocket', async () => {
    const s = await start();
    const allowed = ['id', ...DEFAULTS.subscription.properties];
    for (const path of ['/v1/users?props=statusText,x1', '/v1/users/u1?props=x1,statusText', '/v1/users?extension=1001&props=x1', '/v1/users?props=alias']) {
      const a = await get(`${s.base}${path}`);
      expect(a.status, path).to.equal(400);
      expect(a.json.parameter, path).to.equal('props');
      expect(a.json.error, path).to.include(path.includes('alias') ? '"alias"' : '"x1"');
      expect(a.json.allowed, path).to.have.members(allowed);
      for (const p of allowed) expect(a.json.expected, path).to.include(p);
    }
    const ws = await upgradeAnswer(`${s.base.replace('http', 'ws')}/v1/users?props=extension,x2`);
    expect(ws.status).to.equal(400);
    expect(ws.body).to.include({ parameter: 'props' });
    expect(ws.body.error).to.include('"x2"');
    expect(ws.body.allowed).to.have.members(allowed);
    expect(s.http.reads!.builds.builds, 'nothing built for a refused read').to.equal(0);

    // id and configurationId are always there; the mirrored properties too
    const ok = await get(`${s.base}/v1/users?ids=u1&props=id,configurationId,extension`);
    expect(ok.status).to.equal(200);
    expect(ok.json.users).to.deep.equal([{ id: 'u1', configurationId: { id: 'u1', displayName: 'u1' }, extension: '1001' }]);
    expect((await upgradeAnswer(`${s.base.replace('http', 'ws')}/v1/users?props=statusText,configurationId`)).status).to.equal(101);

    // with "*" the mirror may hold any user property of the vendor's reference, and nothing else
    const star = await start({}, ['*']);
    expect((await get(`${star.base}/v1/users?props=alias,extension`)).status).to.equal(200);
    const bad = await get(`${star.base}/v1/users?props=alias,x1`);
    expect(bad.status).to.equal(400);
    expect(bad.json.allowed).to.include.members(['alias', 'extension', 'mailboxProperties', 'id']);
  });

  it('builds one body for many concurrent requests of the same seq and props, and counts it in /metrics', async () => {
    const s = await start();
    const builds = async () => {
      const m = await get(`${s.base}/metrics`);
      return Number(/^icwatch_http_body_builds_total (\d+)/m.exec(m.body.toString('utf8'))?.[1]);
    };
    expect(await builds()).to.equal(0);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        get(`${s.base}/v1/users?props=${i % 2 ? 'statusText,extension' : 'extension,statusText'}`, i % 3 ? {} : { 'accept-encoding': 'gzip' }),
      ),
    );
    const plain = answers.find((a) => !a.headers['content-encoding'])!;
    for (const a of answers) {
      expect(a.status).to.equal(200);
      expect(a.headers.etag).to.equal(`"${writer.epoch}:${writer.seq}"`);
      expect(a.headers['content-encoding'] ? gunzipSync(a.body).equals(plain.body) : a.body.equals(plain.body)).to.equal(true);
    }
    expect(plain.json.users).to.have.length(300);
    expect(plain.json.users.find((u: { id: string }) => u.id === 'u7')).to.deep.equal({ id: 'u7', extension: '1007', statusText: 'Available' });
    expect(s.http.reads!.builds.builds, 'one build for the 30 requests').to.equal(1);
    expect(await builds(), 'icwatch_http_body_builds_total').to.equal(1);

    // a new seq is a new body; an ids filter another one
    await writer.upsert('u1', { statusText: 'Away' });
    await Promise.all(Array.from({ length: 10 }, () => get(`${s.base}/v1/users?props=extension,statusText`)));
    await Promise.all(Array.from({ length: 10 }, () => get(`${s.base}/v1/users?ids=u1,u2&props=extension,statusText`)));
    expect(await builds()).to.equal(3);
  });

  it('keeps at most http.bodies.maxEntries bodies and maxBytes bytes, dropping the least recently used', async () => {
    const combos = subsets(['extension', 'statusText', 'workgroups', 'skills']).slice(0, 6);
    const read = (s: ReadsServer, props: string[]) => get(`${s.base}/v1/users?props=${props.join(',')}`);

    const byCount = await start({ maxEntries: 3 });
    for (const c of combos) expect((await read(byCount, c)).status).to.equal(200);
    const cache = byCount.http.reads!.bodies;
    expect(cache.size).to.equal(3);
    expect(cache.evictions).to.equal(3);
    const builds = byCount.http.reads!.builds;
    expect(builds.builds).to.equal(6);
    await read(byCount, combos[5]!); // kept: no build
    expect(builds.builds).to.equal(6);
    await read(byCount, combos[0]!); // dropped: built again, and the least recently used (combos[3]) goes
    expect(builds.builds).to.equal(7);
    await read(byCount, combos[4]!);
    expect(builds.builds).to.equal(7);
    await read(byCount, combos[3]!);
    expect(builds.builds).to.equal(8);

    // by bytes: about two of these bodies fit
    const sizes = await Promise.all(combos.map(async (c) => (await read(byCount, c)).body.length));
    const maxBytes = Math.max(...sizes) * 2 + 10;
    const byBytes = await start({ maxBytes, maxEntries: 100 });
    for (const c of combos) await read(byBytes, c);
    const held = byBytes.http.reads!.bodies;
    expect(held.bytes).to.be.at.most(maxBytes);
    expect(held.size).to.be.below(combos.length);
    expect(held.evictions).to.be.at.least(3);
    // compressed forms count too, and stay within the bound
    await get(`${byBytes.base}/v1/users?props=${combos[5]!.join(',')}`, { 'accept-encoding': 'gzip' });
    await get(`${byBytes.base}/v1/users?props=${combos[5]!.join(',')}`, { 'accept-encoding': 'br' });
    expect(held.bytes).to.be.at.most(maxBytes);
  });

  it('answers 503 with Retry-After when more builds wait than http.bodies.maxQueuedBuilds, and serves them in turn', async () => {
    const s = await start({ maxConcurrentBuilds: 1, maxQueuedBuilds: 1 });
    const combos = subsets(['extension', 'statusText', 'workgroups', 'skills']).slice(0, 10);
    const answers = await Promise.all(combos.map((c) => get(`${s.base}/v1/users?props=${c.join(',')}`)));
    for (const a of answers) {
      expect(a.status).to.be.oneOf([200, 503]);
      if (a.status === 503) {
        expect(a.headers['retry-after']).to.equal('1');
        expect(a.json.error).to.match(/^too busy building bodies/);
      }
    }
    for (const c of combos) expect((await get(`${s.base}/v1/users?props=${c.join(',')}`)).status).to.equal(200);
  });
});

describe('directoryJson: the body built in slices', function () {
  it('is byte for byte the JSON.stringify of the whole answer, whatever the slices, sizes and props', async () => {
    const users = Array.from({ length: 1000 }, (_, i) => ({
      extension: String(i),
      statusText: i % 3 ? 'Available' : 'Zurück in 5 Minuten — 休憩中 ✓',
      ...(i % 5 ? { workgroups: [{ id: 'Support', displayName: 'Support "EU"' }] } : {}),
    }));
    const ids = users.map((_, i) => `u${i}`);
    for (const [n, epoch, props, sliceMs, expected] of [
      [0, null, null, 5, undefined],
      [1, 'e1', null, 5, 1],
      [1000, 'e2', null, 0, 10],
      [1000, 'e3', new Set(['statusText', 'id']), 0, undefined],
      [1000, 'e4', new Set(['workgroups']), 1000, 1_000_000],
    ] as const) {
      const picture = { epoch, seq: 42, ids: ids.slice(0, n), users: users.slice(0, n) };
      const json = await directoryJson(picture, props, sliceMs, expected);
      const whole = JSON.stringify({ epoch, seq: 42, users: picture.ids.map((id, i) => ({ id, ...pickProps(picture.users[i]!, props) })) });
      expect(json.equals(Buffer.from(whole)), `${n} users, props ${props ? [...props].join(',') : 'all'}`).to.equal(true);
    }
  });
});

describe('BodyBuilds: single flight and turns', function () {
  const body = (seq: number) => new Body(Buffer.from(`{"seq":${seq}}`), { epoch: 'e', seq });
  /** A build that waits for `release`, telling where it begins. */
  const slowBuild = (seq: number, release: Promise<void>, calls: number[]) => async (begun: (at: { epoch: string; seq: number }) => void) => {
    calls.push(seq);
    begun({ epoch: 'e', seq });
    await release;
    return body(seq);
  };

  it('shares a build that waits or runs at the same seq or later among every request for its query', async () => {
    const b = new BodyBuilds({ maxConcurrentBuilds: 1, maxQueuedBuilds: 10 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls: number[] = [];
    const first = Array.from({ length: 20 }, () => b.body('*|extension', { epoch: 'e', seq: 5 }, slowBuild(5, gate, calls)));
    await new Promise((r) => setImmediate(r));
    // running at seq 5: a request at seq 5 shares it; one at seq 6 needs a build of its own, which then waits
    const same = b.body('*|extension', { epoch: 'e', seq: 5 }, slowBuild(5, gate, calls));
    const later = Array.from({ length: 5 }, () => b.body('*|extension', { epoch: 'e', seq: 6 }, slowBuild(6, gate, calls)));
    const other = b.body('*|statusText', { epoch: 'e', seq: 5 }, slowBuild(5, gate, calls));
    expect(b.queued, 'the later build and the other query wait for the one turn').to.equal(2);
    release();
    const bodies = await Promise.all([...first, same]);
    expect(new Set(bodies).size, 'one body for all 21').to.equal(1);
    expect(new Set(await Promise.all(later)).size).to.equal(1);
    expect((await later[0]!).head.seq).to.equal(6);
    await other;
    expect(b.builds).to.equal(3);
    expect(calls).to.deep.equal([5, 6, 5]);
  });

  it('refuses with BuildsBusy past maxQueuedBuilds, and runs at most maxConcurrentBuilds at once', async () => {
    const b = new BodyBuilds({ maxConcurrentBuilds: 2, maxQueuedBuilds: 3 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let running = 0;
    let most = 0;
    const build = (seq: number) => async () => {
      most = Math.max(most, ++running);
      await gate;
      running--;
      return body(seq);
    };
    const results = Array.from({ length: 8 }, (_, i) =>
      b.body(`q${i}`, { epoch: 'e', seq: 1 }, build(i)).then(
        () => 'built',
        (err: Error) => err,
      ),
    );
    release();
    const settled = await Promise.all(results);
    expect(settled.filter((r) => r === 'built')).to.have.length(5);
    const refused = settled.filter((r) => r instanceof BuildsBusy);
    expect(refused).to.have.length(3);
    expect(most).to.equal(2);
    // compressions take the same turns
    expect(await b.turn(async () => 'compressed')).to.equal('compressed');
  });
});

describe('HTTP reads at 10,000 users while a WebSocket client follows live changes', function () {
  this.timeout(300000);
  let redis: Redis;
  let prefix: string;
  let probe: LiveProbe;
  let reader: LiveProbe;
  let s: ReadsServer;

  before(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('http-weapon');
    probe = new LiveProbe(SHARED_REDIS_URL, prefix);
    reader = new LiveProbe(SHARED_REDIS_URL, prefix);
    await probe.fill(10_000);
    s = await startReadsServer(redis, prefix, [], {}, { maxQueuedBuilds: 1000 });
  });
  after(async () => {
    await probe?.stop();
    await reader?.stop();
    await s?.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('100 distinct props reads do not stall the client’s live changes (write → receipt), and unknown props are 400', async () => {
    // The full directory once (it loads the view), then a client that follows a change every 20 ms.
    const full = await get(`${s.base}/v1/users`);
    expect(full.json.users).to.have.length(10_000);
    await probe.follow(`${s.base.replace('http', 'ws')}/v1/users`, 20);
    const quietLoop = monitorEventLoopDelay({ resolution: 5 });
    quietLoop.enable();
    await new Promise((r) => setTimeout(r, 3000));
    quietLoop.disable();
    const quiet = await probe.window();

    const builds = s.http.reads!.builds.builds;
    const lagBefore = await websocketLagBuckets(s);
    // 100 different combinations of the mirrored properties (there are 127), asked for at once by another process,
    // half of them compressed.
    const combos = subsets(DEFAULTS.subscription.properties).slice(0, 100);
    expect(new Set(combos.map((c) => c.join(','))).size).to.equal(100);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const started = Date.now();
    const answers = await reader.get(
      combos.map((c, i): { url: string; headers: Record<string, string> } => ({
        url: `${s.base}/v1/users?props=${c.join(',')}`,
        headers: i % 2 ? { 'accept-encoding': 'gzip' } : {},
      })),
    );
    const burstMs = Date.now() - started;
    loop.disable();
    await new Promise((r) => setTimeout(r, 500));
    const burst = await probe.window();
    const lagAfter = await websocketLagBuckets(s);

    expect(answers.map((a) => a.status)).to.deep.equal(combos.map(() => 200));
    expect(s.http.reads!.builds.builds - builds, 'one build per combination').to.equal(100);
    const p99 = quantile(burst.delaysMs, 0.99);
    const handOff = lagQuantile(lagBefore, lagAfter, 0.99);
    console.log(
      `    100 props reads in ${burstMs} ms (${Math.round(answers.reduce((n, a) => n + a.bytes, 0) / 1024 / 1024)} MiB sent); ` +
        `client delay p50 ${quantile(burst.delaysMs, 0.5)} ms, p99 ${p99} ms, max ${Math.max(...burst.delaysMs)} ms over ${burst.received} changes ` +
        `(before: p99 ${quantile(quiet.delaysMs, 0.99)} ms, event loop delay max ${Math.round(quietLoop.max / 1e6)} ms); icwatch_lag_seconds{stage="websocket"} p99 ≈ ${Math.round(handOff * 1000)} ms; ` +
        `event loop delay p99 ${Math.round(loop.percentile(99) / 1e6)} ms, max ${Math.round(loop.max / 1e6)} ms`,
    );
    expect(burst.received, 'changes kept flowing during the reads').to.be.at.least(Math.min(50, burst.written * 0.9));
    expect(burst.received).to.be.at.least(burst.written - 5);
    // The product's target is 100 ms (README "HTTP reads"), measured by `npm run bench -- --only reads` on a quiet
    // machine (readsBurstP99Ms); a test checks behaviour, not timing. What it checks here is that live changes are not
    // stalled behind the bodies: a body built in one go holds the event loop for its whole length, which at this size
    // is seconds (32.7 s for 100 bodies at load 19 on 2 cores). So the bound is five times the target, and 2 s on a
    // machine with more runnable processes than cores, where every process waits for a core far longer than 100 ms now
    // and then with or without reads (a full mark-compact alone takes 100-200 ms there).
    const load = loadavg()[0]! / cpus().length;
    const bound = load > 1.5 ? 2000 : 500;
    if (p99 > 100)
      console.log(`    load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs: p99 ${p99} ms (target 100, measured by the reads bench), bound ${bound} ms`);
    expect(p99, 'p99 of write → receipt while the bodies were built').to.be.at.most(bound);

    // and names the mirror does not hold cost nothing
    const before = s.http.reads!.builds.builds;
    for (let i = 0; i < 20; i++) expect((await get(`${s.base}/v1/users?props=statusText,x${i}`)).status).to.equal(400);
    expect(s.http.reads!.builds.builds).to.equal(before);
  });
});

type Buckets = Map<number, number>;

/** The cumulative buckets of icwatch_lag_seconds{stage="websocket"} on /metrics. */
async function websocketLagBuckets(s: ReadsServer): Promise<Buckets> {
  const text = (await get(`${s.base}/metrics`)).body.toString('utf8');
  const out: Buckets = new Map();
  for (const m of text.matchAll(/^icwatch_lag_seconds_bucket\{le="([^"]+)",stage="websocket"\} (\d+)/gm))
    out.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  return out;
}

/** The p-quantile (seconds, linear within the bucket, as Prometheus's histogram_quantile) of what was observed between two readings. */
function lagQuantile(before: Buckets, after: Buckets, p: number): number {
  const les = [...after.keys()].sort((a, b) => a - b);
  const count = (le: number) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const total = count(Infinity);
  if (!total) return 0;
  let prevLe = 0;
  let prevCount = 0;
  for (const le of les) {
    const c = count(le);
    if (c >= p * total) return le === Infinity ? prevLe : prevLe + ((le - prevLe) * (p * total - prevCount)) / Math.max(1, c - prevCount);
    prevLe = le;
    prevCount = c;
  }
  return prevLe;
}
