/**
 * `icwatch run` with websocket.workers 2 (docs/architecture.md, "Processes"): clients served by different workers
 * receive the same gap-free changes, /metrics counts every worker's clients, a killed worker is replaced and its
 * clients resume, and SIGTERM closes every client with 1001 and exits 0.
 */
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { DEFAULTS } from '../../src/config/defaults.js';
import { IcwatchClient as FanoutClient } from '../../src/client/index.js';
import { CLOSE } from '../../src/fanout/close-codes.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { threadsOf } from '../../src/cluster/worker-priority.js';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import {
  everyStatusMirrored,
  killAll,
  metricValue,
  startIcwatch,
  startSimulatorProcess,
  type IcwatchProcess,
  type SimulatorProcess,
} from '../helpers/processes.js';

type SimUser = { configurationId: { id: string } } & Record<string, unknown>;
type Change = { op: string; seq: number; id: string };

interface Watched {
  client: FanoutClient;
  worker?: string;
  changes: Change[];
  gaps: number;
  resets: number;
  closes: number[];
}

describe('icwatch run with two workers', function () {
  this.timeout(90000);
  let redis: Redis;
  let prefix: string;
  let sim: SimulatorProcess;
  let icwatch: IcwatchProcess;
  const watched: Watched[] = [];
  let users: SimUser[];

  const seq = async () => Number(await redis.hget(mirrorKeys(prefix).meta, 'seq'));
  /** Every start of a worker the pool logged, in order: `worker N (pid P) serves port …`. */
  const workerStarts = () => [...icwatch.stdout().matchAll(/worker (\d+) \(pid (\d+)\) serves port/g)].map((m) => ({ id: m[1]!, pid: Number(m[2]) }));
  const watch = (): Watched => {
    const w: Watched = {
      client: new FanoutClient({
        url: `ws://127.0.0.1:${icwatch.port}/v1/users`,
        snapshot: 'websocket',
        backoff: { initialMs: 100, maxMs: 500, multiplier: 2, jitter: 0.5 },
      }),
      changes: [],
      gaps: 0,
      resets: 0,
      closes: [],
    };
    w.client.on('frame', (_text: string, f: { type: string; worker?: string }) => {
      if (f.type === 'hello') w.worker = f.worker;
    });
    w.client.on('change', (c: Change) => w.changes.push({ op: c.op, seq: c.seq, id: c.id }));
    w.client.on('status', (s: { seq: number; id: string }) => w.changes.push({ op: 'status', seq: s.seq, id: s.id }));
    w.client.on('gap', () => w.gaps++);
    w.client.on('reset', () => w.resets++);
    w.client.on('close', (code: number) => w.closes.push(code));
    // Reconnecting to a stopped icwatch fails: expected at the end.
    w.client.on('error', () => {});
    watched.push(w);
    return w;
  };
  /** Changes the simulator's users and waits until the mirror has settled; returns the seq before and after. */
  const churn = async (round: string): Promise<[number, number]> => {
    const start = await seq();
    for (let i = 0; i < 6; i++) await sim.control('POST', `users/${encodeURIComponent(users[i]!.configurationId.id)}`, { statusText: `${round} ${i}` });
    await sim.control('POST', 'churn', { count: 10 });
    await waitFor('the changes in the mirror', async () => (await seq()) >= start + 6);
    let last = -1;
    await waitFor(
      'the mirror to settle',
      async () => {
        const s = await seq();
        const settled = s === last;
        last = s;
        return settled;
      },
      10000,
      300,
    );
    return [start, last];
  };
  /**
   * Waits until every client holds the mirror's seq, read again on each try (a change arriving after the mirror looked
   * settled moves the target rather than failing the wait), and returns that seq.
   */
  const everyClientAtMirrorSeq = () =>
    waitFor(
      'every client at the mirror seq',
      async () => {
        const s = await seq();
        const at = watched.map((w) => w.client.seq);
        if (at.every((c) => c === s)) return s;
        throw new Error(`the mirror is at seq ${s}, the clients at ${at.join(', ')}`);
      },
      20000,
      100,
    );
  const expectGapFree = (changes: Change[], from: number, to: number) =>
    expect(changes.filter((c) => c.seq > from && c.seq <= to).map((c) => c.seq)).to.deep.equal(Array.from({ length: to - from }, (_, i) => from + 1 + i));

  before(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('workers');
    sim = await startSimulatorProcess({ users: 30, seed: 13 });
    users = await sim.control<SimUser[]>('GET', 'users');
    icwatch = await startIcwatch({
      ICWATCH_REDIS_URL: SHARED_REDIS_URL,
      ICWATCH_REDIS_KEY_PREFIX: prefix,
      ICWATCH_ICWS_URL: sim.url,
      ICWATCH_ICWS_PASSWORD: 'icwatch',
      ICWATCH_WEBSOCKET_WORKERS: '2',
      // Not the default (5): the workers' niceness must come from the configuration.
      ICWATCH_WEBSOCKET_WORKER_NICE: '7',
    });
    await waitFor('icwatch ready', async () => (await icwatch.get('/readyz')).status === 200, 30000, 100);
    // Ready means the first worker serves (the port answers); the second may start a moment later, and until it
    // listens node:cluster deals every connection to the first.
    await waitFor('both workers serving', () => ['1', '2'].every((id) => workerStarts().some((w) => w.id === id)), 30000, 100);
    // Ready means the first full replace of users is applied; their statuses (presence) follow it, and must be in
    // before the clients connect, or the first clients get them as changes and the later ones in their snapshots.
    await everyStatusMirrored(icwatch, users.length);
  });
  after(async () => {
    await Promise.all(watched.map((w) => w.client.stop()));
    await icwatch?.stop('SIGKILL');
    await sim?.stop();
    killAll();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('sends identical gap-free changes to clients of different workers, and /metrics counts them all', async () => {
    // Connections are dealt to the workers in turn: a few clients land on both.
    for (let i = 0; i < 6; i++) {
      const w = watch();
      w.client.start();
      await new Promise((resolve) => w.client.once('synced', resolve));
    }
    const workers = new Set(watched.map((w) => w.worker));
    expect([...workers].sort()).to.deep.equal(['1', '2']);

    const [start] = await churn('first');
    const last = await everyClientAtMirrorSeq();
    for (const w of watched) {
      expectGapFree(w.changes, start, last);
      expect(w.changes).to.deep.equal(watched[0]!.changes);
      expect(w.gaps).to.equal(0);
    }

    const metrics = (await icwatch.get('/metrics')).text;
    expect(metricValue(metrics, 'icwatch_ws_clients')).to.equal(watched.length);
    expect(metricValue(metrics, 'icwatch_seq')).to.equal(last);
    for (const process of ['primary', '1', '2']) expect(metrics).to.match(new RegExp(`^process_resident_memory_bytes\\{worker="${process}"\\} \\d+`, 'm'));
    // Each worker logs with its id.
    const lines = icwatch
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"worker":"2"'));
    expect(lines.some((l) => l.includes('HTTP on'))).to.equal(true);
  });

  it('runs every thread of each worker websocket.workerNice levels below the primary', () => {
    // The primary runs at this process's priority (nothing lowers it); the workers 7 below.
    const expected = Math.min(getPriority() + 7, 19);
    const starts = workerStarts();
    expect(starts).to.have.lengthOf(2);
    for (const { pid } of starts) {
      expect(getPriority(pid), `worker pid ${pid}`).to.equal(expected);
      const threads = threadsOf(pid);
      expect(threads.length, `threads of worker pid ${pid}`).to.be.greaterThan(1);
      for (const tid of threads) expect(getPriority(tid), `worker pid ${pid}, thread ${tid}`).to.equal(expected);
    }
    expect(icwatch.stdout()).not.to.include('cannot lower the priority');
  });

  it('each worker knows the mirrored properties: props naming another is a 400, over HTTP and the WebSocket', async () => {
    // With presence (on by default) a user's status is one more property.
    const allowed = ['id', ...DEFAULTS.subscription.properties, ...(DEFAULTS.presence.enabled ? ['status'] : [])];
    // Connections are dealt to the workers in turn: a few requests reach both.
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${icwatch.base}/v1/users?props=statusText,x${i}`);
      expect(res.status).to.equal(400);
      const body = (await res.json()) as { parameter: string; error: string; allowed: string[] };
      expect(body.parameter).to.equal('props');
      expect(body.error).to.include(`"x${i}"`);
      expect(body.allowed).to.have.members(allowed);
      const refused = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${icwatch.port}/v1/users?props=x${i}`);
        ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
        ws.on('open', () => (ws.terminate(), resolve(101)));
        ws.on('error', reject);
      });
      expect(refused).to.equal(400);
      expect((await fetch(`${icwatch.base}/v1/users?props=statusText,configurationId`)).status).to.equal(200);
    }
  });

  it('replaces a killed worker, and its clients resume where they were', async () => {
    const worker2 = workerStarts().find((w) => w.id === '2');
    expect(worker2, 'the pool logs each worker pid').to.not.equal(undefined);
    const victims = watched.filter((w) => w.worker === '2');
    process.kill(worker2!.pid, 'SIGKILL');
    await icwatch.waitForOutput(/worker 2 exited \(SIGKILL\); starting it again/);
    await waitFor('a new worker 2', () => workerStarts().filter((w) => w.id === '2').length >= 2, 30000, 100);

    const [start] = await churn('second');
    const last = await everyClientAtMirrorSeq();
    for (const w of victims) {
      expect(w.closes.length).to.be.greaterThan(0);
      // A resume: no reset and no second snapshot, no gap.
      expect(w.resets).to.equal(0);
      expect(w.gaps).to.equal(0);
    }
    for (const w of watched) {
      expectGapFree(w.changes, start, last);
      expect(w.changes).to.deep.equal(watched[0]!.changes);
    }
    await waitFor(
      '/metrics counting every client again',
      async () => metricValue((await icwatch.get('/metrics')).text, 'icwatch_ws_clients') === watched.length,
      10000,
      200,
    );
  });

  it('on SIGTERM closes every client with 1001 and exits 0', async () => {
    for (const w of watched) w.closes.length = 0;
    const code = await icwatch.stop('SIGTERM', 20000);
    expect(code).to.equal(0);
    await waitFor('every client told', () => watched.every((w) => w.closes.length > 0));
    for (const w of watched) expect(w.closes[0]).to.equal(CLOSE.goingAway.code);
    expect(icwatch.stdout()).to.match(/"message":"stopped"/);
    // The workers are gone with the primary (a zombie waiting for its reaper counts as gone).
    const pids = workerStarts().map((w) => w.pid);
    expect(pids.length).to.be.greaterThanOrEqual(3);
    const alive = (pid: number) => {
      try {
        return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    };
    await waitFor('the workers gone', () => pids.every((pid) => !alive(pid)), 5000);
  });
});
