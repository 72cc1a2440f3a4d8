/**
 * A live consumer in a process of its own, for the tests that load icwatch's process: it writes the mirror (a
 * LayoutWriter) and follows it over the WebSocket, and times every change from its write to its receipt. Being apart
 * matters: a writer or a client sharing the event loop of the icwatch being loaded would stop writing while that loop
 * is held, and see no delay at all.
 *
 *   parent → probe  {cmd:'fill', users}           writes that many users (the simulator's, default properties)
 *                   {cmd:'follow', url, everyMs}  connects; once its snapshot is in, changes one user every everyMs
 *                   {cmd:'window'}                the delays (ms) since the last window, then a new window begins
 *                   {cmd:'get', urls, headers}    GETs them all at once, counting and dropping the bodies
 *                   {cmd:'stop'}                  stops writing, closes, exits
 *   probe → parent  {ev:'filled', seq} {ev:'live', seq} {ev:'window', delaysMs, received, written} {ev:'got', answers}
 *
 * The `get` of many large bodies is a probe's work too, in another probe: received in icwatch's process, it would
 * load the very event loop it measures.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { DEFAULTS } from '../../src/config/defaults.js';
import { Random } from '../../src/simulator/random.js';
import { generateUser, STATUS_TEXTS } from '../../src/simulator/users.js';
import { LayoutWriter, type Op } from '../fanout/layout.js';
import { subscribedUsers } from '../helpers/mirror.js';

type ToProbe =
  | { cmd: 'fill'; users: number }
  | { cmd: 'follow'; url: string; everyMs: number }
  | { cmd: 'window' }
  | { cmd: 'get'; requests: { url: string; headers: Record<string, string> }[] }
  | { cmd: 'stop' };
export interface GotAnswer {
  status: number;
  bytes: number;
  ms: number;
}
export type FromProbe =
  | { ev: 'filled'; seq: number; ids: string[] }
  | { ev: 'live'; seq: number }
  | { ev: 'window'; delaysMs: number[]; received: number; written: number }
  | { ev: 'got'; answers: GotAnswer[] }
  | { ev: 'failed'; error: string };

/** The probe process, seen from the test. */
export class LiveProbe {
  private readonly child: ChildProcess;
  private readonly gone: Promise<void>;

  constructor(redisUrl: string, prefix: string) {
    this.child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, ICWATCH_LIVE_PROBE: '1', ICWATCH_LIVE_PROBE_REDIS: redisUrl, ICWATCH_LIVE_PROBE_PREFIX: prefix },
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.gone = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  fill(users: number): Promise<Extract<FromProbe, { ev: 'filled' }>> {
    return this.ask({ cmd: 'fill', users }, 'filled');
  }
  follow(url: string, everyMs: number): Promise<Extract<FromProbe, { ev: 'live' }>> {
    return this.ask({ cmd: 'follow', url, everyMs }, 'live');
  }
  window(): Promise<Extract<FromProbe, { ev: 'window' }>> {
    return this.ask({ cmd: 'window' }, 'window');
  }
  async get(requests: { url: string; headers: Record<string, string> }[]): Promise<GotAnswer[]> {
    return (await this.ask({ cmd: 'get', requests }, 'got')).answers;
  }
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) this.child.send({ cmd: 'stop' } satisfies ToProbe);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    await this.gone;
    clearTimeout(t);
  }

  private ask<E extends FromProbe['ev']>(m: ToProbe, ev: E): Promise<Extract<FromProbe, { ev: E }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (r: FromProbe) => {
        if (r.ev === 'failed') reject(new Error(`the live probe failed: ${r.error}`));
        else if (r.ev === ev) resolve(r as Extract<FromProbe, { ev: E }>);
        else return;
        this.child.off('message', onMessage);
      };
      this.child.on('message', onMessage);
      this.child.send(m);
    });
  }
}

async function probeMain(): Promise<void> {
  const send = (m: FromProbe) => process.send!(m);
  const redis = new Redis(process.env.ICWATCH_LIVE_PROBE_REDIS!);
  const writer = new LayoutWriter(redis, process.env.ICWATCH_LIVE_PROBE_PREFIX!, { streamLength: 1_000_000 });
  const rng = new Random(7);
  let ids: string[] = [];
  /** seq → when it was written (Date.now() just before its MULTI, as the entry's `at`). */
  const writtenAt = new Map<number, number>();
  let delays: number[] = [];
  let received = 0;
  let written = 0;
  let timer: NodeJS.Timeout | undefined;
  let ws: WebSocket | undefined;

  const fill = async (n: number) => {
    await writer.init();
    const taken = new Set<string>();
    const users = subscribedUsers(
      Array.from({ length: n }, (_, i) => generateUser(i, rng, taken)),
      DEFAULTS.subscription.properties,
    );
    ids = [...users.keys()];
    const ops: Op[] = [...users].map(([id, data]) => ({ op: 'upsert', id, data }));
    for (let i = 0; i < ops.length; i += 500) await writer.apply(ops.slice(i, i + 500));
    send({ ev: 'filled', seq: writer.seq, ids });
  };

  const follow = (url: string, everyMs: number) => {
    let snapshotDone = false;
    ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('error', (err) => send({ ev: 'failed', error: err.message }));
    ws.on('message', (data: Buffer) => {
      const now = Date.now();
      const f = JSON.parse(data.toString('utf8')) as { type: string; seq?: number; last?: boolean };
      if (f.type === 'snapshot' && f.last && !snapshotDone) {
        snapshotDone = true;
        startWriting(everyMs);
        send({ ev: 'live', seq: f.seq! });
      } else if (f.type === 'upsert' && f.seq !== undefined) {
        const at = writtenAt.get(f.seq);
        if (at === undefined) return;
        writtenAt.delete(f.seq);
        received++;
        delays.push(now - at);
      }
    });
  };

  const startWriting = (everyMs: number) => {
    let busy = false;
    let i = 0;
    timer = setInterval(() => {
      if (busy) return; // Redis slower than the pace: skip a beat rather than pile writes up
      busy = true;
      const id = ids[(i * 7919) % ids.length]!;
      const statusText = `${STATUS_TEXTS[i % STATUS_TEXTS.length]} ${i++}`;
      const at = Date.now();
      writtenAt.set(writer.seq + 1, at);
      written++;
      writer
        .upsert(id, { statusText })
        .catch((err: Error) => send({ ev: 'failed', error: err.message }))
        .finally(() => (busy = false));
    }, everyMs);
  };

  const getAll = async (requests: { url: string; headers: Record<string, string> }[]) => {
    const answers = await Promise.all(requests.map((r) => sizeOf(r.url, r.headers)));
    send({ ev: 'got', answers });
  };

  process.on('message', (m: ToProbe) => {
    if (m.cmd === 'get') getAll(m.requests).catch((err: Error) => send({ ev: 'failed', error: err.message }));
    else if (m.cmd === 'fill') fill(m.users).catch((err: Error) => send({ ev: 'failed', error: err.message }));
    else if (m.cmd === 'follow') follow(m.url, m.everyMs);
    else if (m.cmd === 'window') {
      send({ ev: 'window', delaysMs: delays, received, written });
      delays = [];
      received = 0;
      written = 0;
    } else if (m.cmd === 'stop') {
      clearInterval(timer);
      ws?.terminate();
      redis.disconnect();
      process.disconnect();
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/** A GET whose body is counted and dropped. */
function sizeOf(url: string, headers: Record<string, string>): Promise<GotAnswer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: Date.now() - started }));
      })
      .on('error', reject);
  });
}

if (process.env.ICWATCH_LIVE_PROBE === '1') void probeMain();
