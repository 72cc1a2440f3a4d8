/**
 * icwatch/client against a real icwatch (child process, the simulator as its ICWS server, real Redis): snapshot
 * then changes equal the mirror at every seq (from the HTTP snapshot and from the WebSocket's), a resume after a
 * drop receives exactly the missed seqs, and a new epoch causes a reset and a fresh snapshot.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { IcwatchClient, type Change, type IcwatchClientOptions, type ServerFrame } from '../../src/client/index.js';
import { withStatusChange } from '../../src/mirror/status-reads.js';
import { decodeChangeEntry } from '../../src/mirror/change.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { difference, readMirrorWithStatuses, type Props } from '../helpers/mirror.js';
import { everyStatusMirrored, killAll, startIcwatch, type IcwatchProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

const canonical = (users: Map<string, Props>) => JSON.stringify([...users].sort(([a], [b]) => (a < b ? -1 : 1)));

describe('icwatch/client against a real icwatch', function () {
  this.timeout(60000);
  let sim: Simulator;
  let redis: Redis;
  let prefix: string;
  let env: Record<string, string>;
  let icwatch: IcwatchProcess;
  const clients: IcwatchClient[] = [];
  const keys = () => mirrorKeys(prefix);
  const metaSeq = async () => Number(await redis.hget(keys().meta, 'seq'));
  const client = (o: Partial<IcwatchClientOptions> = {}) => {
    const c = new IcwatchClient({ url: `ws://127.0.0.1:${icwatch.port}/v1/users`, backoff: { initialMs: 50, maxMs: 500, multiplier: 2, jitter: 0.5 }, ...o });
    c.on('error', () => {});
    clients.push(c);
    return c;
  };
  /** The mirror stops moving (the simulator has no background churn). */
  const settled = async () => {
    let last = -1;
    await waitFor(
      'the mirror to settle',
      async () => {
        const seq = await metaSeq();
        const same = seq === last;
        last = seq;
        return same;
      },
      20000,
      300,
    );
    return last;
  };

  before(async () => {
    sim = await startSimulator({ users: 60, seed: 21 });
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('client');
    env = {
      ICWATCH_ICWS_URL: sim.url,
      ICWATCH_ICWS_PASSWORD: 'icwatch',
      ICWATCH_REDIS_URL: SHARED_REDIS_URL,
      ICWATCH_REDIS_KEY_PREFIX: prefix,
      ICWATCH_ICWS_POLL_INTERVAL_MS: '50',
    };
    icwatch = await startIcwatch(env);
    await waitFor('icwatch ready', async () => (await icwatch.get('/readyz')).status === 200, 30000, 100);
    await everyStatusMirrored(icwatch, sim.control.users().length);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await icwatch?.stop('SIGTERM');
    killAll();
    await sim?.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('snapshot (HTTP or WebSocket) then changes equal the mirror at every seq', async () => {
    const start = await settled();
    const viaHttp = client({ url: icwatch.base, snapshot: 'http' });
    const viaWs = client({ snapshot: 'websocket' });
    const states = new Map<IcwatchClient, Map<number, string>>();
    for (const c of [viaHttp, viaWs]) {
      const seen = new Map<number, string>();
      states.set(c, seen);
      c.on('synced', (seq) => seen.set(seq, canonical(c.users)));
      c.on('change', (ch: Change) => seen.set(ch.seq, canonical(c.users)));
      c.on('status', (ch: { seq: number }) => seen.set(ch.seq, canonical(c.users)));
      c.start();
    }
    await waitFor('both clients synced', () => [viaHttp, viaWs].every((c) => c.seq === start));
    const atStart = await readMirrorWithStatuses(redis, keys());
    for (const c of [viaHttp, viaWs]) expect(difference(atStart, c.users)).to.equal(undefined);
    expect(viaHttp.counts.http).to.equal(1);
    expect(viaHttp.counts.snapshot ?? 0).to.equal(0);
    expect(viaWs.counts.snapshot).to.be.greaterThan(0);

    for (let i = 0; i < 4; i++) sim.control.churn(40);
    const [first, second] = sim.control.users();
    sim.control.setProperties(first!.configurationId.id, { statusText: 'At lunch', extension: null });
    sim.control.removeUser(second!.configurationId.id);
    const end = await settled();
    expect(end).to.be.greaterThan(start + 40);
    await waitFor('both clients at the last seq', () => [viaHttp, viaWs].every((c) => c.seq === end));

    // The mirror at every seq: the state at `start`, then each stream entry applied in turn.
    const expected = new Map(atStart);
    const entries = (await redis.xrange(keys().changes, `${start + 1}-0`, `${end}-0`)) as [string, string[]][];
    expect(entries).to.have.length(end - start);
    for (const [, fields] of entries) {
      const e = decodeChangeEntry(fields);
      if (e.op === 'remove') expected.delete(e.id);
      else if (e.op === 'status') expected.set(e.id, withStatusChange(expected.get(e.id) ?? {}, e.data));
      else {
        const u = { ...expected.get(e.id) };
        for (const [k, v] of Object.entries(e.data))
          if (v === null) delete u[k];
          else u[k] = v;
        expected.set(e.id, u);
      }
      for (const c of [viaHttp, viaWs])
        expect(states.get(c)!.get(e.seq), `${c === viaHttp ? 'HTTP' : 'WebSocket'} start, seq ${e.seq}`).to.equal(canonical(expected));
    }
    expect(difference(await readMirrorWithStatuses(redis, keys()), viaHttp.users)).to.equal(undefined);
    // lookups through the local index
    const withExt = [...viaHttp.users].find(([, u]) => typeof u.extension === 'string')!;
    expect(viaHttp.find('extension', withExt[1].extension).map((u) => u.id)).to.include(withExt[0]);
    expect(viaHttp.get(first!.configurationId.id)).to.deep.include({ statusText: 'At lunch' });
    expect(viaHttp.get(first!.configurationId.id)).to.not.have.property('extension');
  });

  it('a resume after a drop receives exactly the missed seqs, without a snapshot', async () => {
    // A fixed 3 s pause before reconnecting: the changes below land while the client is away.
    const c = client({ backoff: { initialMs: 3000, maxMs: 3000, multiplier: 1, jitter: 0 } }).start();
    const before = await settled();
    await waitFor('synced', () => c.seq === before && c.state === 'live');
    const frames: ServerFrame[] = [];
    c.on('frame', (_t, f) => frames.push(f));
    c.drop();
    const ids = sim.control
      .users()
      .slice(0, 6)
      .map((u) => u.configurationId.id);
    for (const [i, id] of ids.entries()) sim.control.setProperties(id, { statusText: `missed ${i}` });
    await waitFor('the changes in the mirror', async () => (await metaSeq()) === before + ids.length, 2500, 20);
    await waitFor('the client back at the mirror seq', () => c.seq === before + ids.length && c.state === 'live', 10000);
    const hello = frames[0] as Extract<ServerFrame, { type: 'hello' }>;
    expect(hello.type).to.equal('hello');
    expect(hello.seq, 'the changes were made while the client was away').to.equal(before + ids.length);
    expect(frames.slice(1).map((f) => [f.type, (f as { seq: number }).seq])).to.deep.equal(ids.map((_, i) => ['upsert', before + 1 + i]));
    expect(difference(await readMirrorWithStatuses(redis, keys()), c.users)).to.equal(undefined);
  });

  it('a new epoch (the mirror restarted from nothing) causes a reset and a fresh snapshot', async () => {
    const c = client().start();
    const seq = await settled();
    await waitFor('synced', () => c.seq === seq);
    const oldEpoch = c.epoch;
    const resets: string[] = [];
    c.on('reset', (f) => resets.push(f.reason));
    const snapshotsBefore = c.counts.snapshot ?? 0;

    await icwatch.stop('SIGTERM');
    await dropPrefix(redis, prefix);
    sim.control.setProperties(sim.control.users()[3]!.configurationId.id, { statusText: 'changed while the mirror was gone' });
    icwatch = await startIcwatch({ ...env, ICWATCH_HTTP_PORT: String(icwatch.port) });
    await waitFor('icwatch ready', async () => (await icwatch.get('/readyz')).status === 200, 30000, 100);
    await everyStatusMirrored(icwatch, sim.control.users().length);
    const epoch = await redis.hget(keys().meta, 'epoch');
    expect(epoch).to.be.a('string').and.not.equal(oldEpoch);
    const end = await settled();
    await waitFor('the client on the new epoch at its last seq', () => c.epoch === epoch && c.seq === end, 20000);
    expect(resets).to.include('epoch');
    expect(c.counts.snapshot ?? 0).to.be.greaterThan(snapshotsBefore);
    expect(difference(await readMirrorWithStatuses(redis, keys()), c.users)).to.equal(undefined);
  });

  it('a new epoch while icwatch runs (a write had failed halfway): live clients reset, take a fresh snapshot and go on', async () => {
    const viaWs = client().start();
    const viaHttp = client({ url: icwatch.base, snapshot: 'http' }).start();
    const seq = await settled();
    await waitFor('synced', () => viaWs.seq === seq && viaHttp.seq === seq && viaWs.state === 'live' && viaHttp.state === 'live');
    const oldEpoch = viaWs.epoch;
    const resets = new Map<IcwatchClient, number>([
      [viaWs, 0],
      [viaHttp, 0],
    ]);
    for (const c of resets.keys()) c.on('reset', () => resets.set(c, resets.get(c)! + 1));

    // What a script Redis stopped halfway leaves (README "Integrity"); the next write finds it and a new epoch starts.
    await redis.hset(keys().meta, 'writing', '1');
    sim.control.setProperties(sim.control.users()[4]!.configurationId.id, { statusText: 'after the failed write' });
    await waitFor('the new epoch', async () => (await redis.hget(keys().meta, 'epoch')) !== oldEpoch, 20000, 50);
    sim.control.setProperties(sim.control.users()[5]!.configurationId.id, { statusText: 'in the new epoch' });
    const epoch = await redis.hget(keys().meta, 'epoch');
    const end = await settled();
    for (const c of resets.keys()) {
      await waitFor('the client on the new epoch at its last seq', () => c.epoch === epoch && c.seq === end && c.state === 'live', 20000);
      expect(resets.get(c)).to.be.greaterThan(0);
      expect(difference(await readMirrorWithStatuses(redis, keys()), c.users)).to.equal(undefined);
    }
  });
});
