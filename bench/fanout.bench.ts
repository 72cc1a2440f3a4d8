/**
 * The WebSocket fan-out against two baselines, one run, the same load for all three: CLIENTS receiving clients
 * (in a child process, so that the server's cost is what is measured), CHANGES changes of about 1 KB each.
 * - fanoutDeliveriesPerSec: icwatch's FanoutServer fed from a real Mirror's change stream (private redis-server),
 *   from the first message handed to the mirror to the last frame received by the last client;
 * - naiveDeliveriesPerSec: a per-client `ws.send(JSON.stringify(…))` broadcast loop;
 * - socketioDeliveriesPerSec: socket.io's `io.emit` broadcast (websocket transport);
 * - fanoutP50Ms / fanoutP99Ms: commit in Redis → receipt by a client, at PACED_PER_SEC changes per second, sampled
 *   on every SAMPLE_EVERY-th client;
 * - rssPerClientKiB: the server process's resident memory per connected fan-out client (after its snapshot);
 * - *ServerCpuUsPerDelivery: CPU time of the serving process per delivery in each throughput phase (the receiving
 *   clients share the machine's 2 cores, so this is the cost that does not depend on how fast they read; icwatch's
 *   figure includes the Mirror's work, which runs in the same process).
 * Run as a child with ICWATCH_FANOUT_BENCH_CHILD=1 it is the receiving side; with =server, a FanoutServer alone in a
 * fresh process (RSS never shrinks, so a process that already ran a phase cannot measure memory per client).
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import WebSocket, { WebSocketServer } from 'ws';
import { Server as SocketIoServer } from 'socket.io';
import { io as socketIoClient, type Socket as SocketIoSocket } from 'socket.io-client';
import { startPrivateRedis } from '../test/helpers/redis.js';
import { startMirror } from '../test/mirror/fixtures.js';
import { FanoutServer } from '../src/fanout/server.js';
import { Metrics } from '../src/metrics/metrics.js';
import { silentLogger } from '../src/log/logger.js';
import { DEFAULTS } from '../src/config/defaults.js';
import { USERS_MESSAGE, type ReceivedUsersMessage, type User } from '../src/icws/messages.js';
import type { Figures } from './run.js';

const PREFIX = 'icwatch:users';
const USERS = 100;
const CHANGE_BYTES = 1024;
/** Paced rate of the latency measurement, and its duration. */
const PACED_PER_SEC = 50;
const PACED_SECONDS = 2;
const SAMPLE_EVERY = 50;
/** Clients connecting at once (the listen backlog is finite). */
const CONNECT_CONCURRENCY = 50;
/** A phase that has not finished after this long has failed (rather than hanging the bench). */
const PHASE_TIMEOUT_MS = 60_000;

const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------- receiving side (child process)

type ToChild =
  | { cmd: 'connect'; kind: 'ws' | 'sio'; url: string; n: number; waitSnapshot: boolean }
  | { cmd: 'expect'; count: number; sample: boolean }
  | { cmd: 'samples' }
  | { cmd: 'disconnect' };
type FromChild = { ev: 'connected' } | { ev: 'done'; at: number } | { ev: 'samples'; samples: [number, number][] } | { ev: 'disconnected' };

async function childMain(): Promise<void> {
  const send = (m: FromChild) => process.send!(m);
  let sockets: WebSocket[] = [];
  let sio: SocketIoSocket[] = [];
  let received = 0;
  let expected = Infinity;
  let sampling = false;
  let samples: [number, number][] = [];
  const count = () => {
    if (++received === expected) send({ ev: 'done', at: now() });
  };
  const sample = (text: string) => {
    if (!sampling) return;
    const m = /"seq":(\d+)/.exec(text);
    if (m) samples.push([Number(m[1]), now()]);
  };
  async function pool(n: number, open: (i: number) => Promise<void>): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONNECT_CONCURRENCY }, async () => {
        while (next < n) await open(next++);
      }),
    );
  }
  process.on('message', (msg: ToChild) => void onMessage(msg));
  async function onMessage(msg: ToChild): Promise<void> {
    if (msg.cmd === 'connect') {
      await pool(
        msg.n,
        (i) =>
          new Promise<void>((resolve, reject) => {
            if (msg.kind === 'sio') {
              const s = socketIoClient(msg.url, { transports: ['websocket'], forceNew: true, reconnection: false });
              s.on('change', (data: unknown) => {
                count();
                if (i % SAMPLE_EVERY === 0) sample(JSON.stringify(data));
              });
              s.once('connect', () => resolve());
              s.once('connect_error', reject);
              sio.push(s);
              return;
            }
            const ws = new WebSocket(msg.url, { perMessageDeflate: false });
            let ready = false;
            ws.on('message', (data: Buffer) => {
              if (!ready) {
                if (data.includes('"last":true')) ((ready = true), resolve());
                return;
              }
              count();
              if (i % SAMPLE_EVERY === 0) sample(data.toString());
            });
            ws.once('open', () => {
              if (!msg.waitSnapshot) ((ready = true), resolve());
            });
            ws.once('error', reject);
            sockets.push(ws);
          }),
      );
      send({ ev: 'connected' });
    } else if (msg.cmd === 'expect') {
      received = 0;
      samples = [];
      sampling = msg.sample;
      expected = msg.count;
    } else if (msg.cmd === 'samples') {
      send({ ev: 'samples', samples });
    } else if (msg.cmd === 'disconnect') {
      for (const ws of sockets) ws.terminate();
      for (const s of sio) s.disconnect();
      sockets = [];
      sio = [];
      send({ ev: 'disconnected' });
    }
  }
}

/** A FanoutServer in a fresh process: reports its port, then its RSS whenever asked. */
async function serverChildMain(): Promise<void> {
  const redis = new Redis(process.env.ICWATCH_FANOUT_BENCH_REDIS!);
  const w = DEFAULTS.websocket;
  const fanout = new FanoutServer({
    ...w,
    redis,
    createSubscriber: () => new Redis(process.env.ICWATCH_FANOUT_BENCH_REDIS!),
    keyPrefix: PREFIX,
    tokens: [],
    properties: DEFAULTS.subscription.properties,
    maxClients: 100_000,
    version: 'bench',
    metrics: new Metrics({ defaultMetrics: false }),
    logger: silentLogger(),
  });
  const server = http.createServer();
  fanout.attach(server);
  const port = await listen(server);
  await fanout.start();
  const rss = () => process.memoryUsage().rss;
  process.send!({ ev: 'listening', port, rss: rss() });
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'rss') process.send!({ ev: 'rss', rss: rss() });
  });
}

if (process.env.ICWATCH_FANOUT_BENCH_CHILD === '1') void childMain();
if (process.env.ICWATCH_FANOUT_BENCH_CHILD === 'server') void serverChildMain();

/** Resident memory per fan-out client, measured in a fresh server process. */
async function rssPerClientKiB(receivers: Receivers, redisUrl: string, clients: number): Promise<number> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, ICWATCH_FANOUT_BENCH_CHILD: 'server', ICWATCH_FANOUT_BENCH_REDIS: redisUrl },
    execArgv: ['--import', 'tsx'],
  });
  try {
    const next = () => new Promise<{ port: number; rss: number }>((r) => child.once('message', r as (m: unknown) => void));
    const { port, rss: before } = await next();
    await receivers.connect('ws', `ws://127.0.0.1:${port}${DEFAULTS.websocket.path}`, clients, true);
    await new Promise((r) => setTimeout(r, 200));
    child.send({ cmd: 'rss' });
    const { rss: after } = await next();
    await receivers.disconnect();
    return Math.round(((after - before) / clients / 1024) * 10) / 10;
  } finally {
    child.kill();
  }
}

// ---------------------------------------------------------------- server side

class Receivers {
  private readonly child: ChildProcess;
  constructor() {
    this.child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, ICWATCH_FANOUT_BENCH_CHILD: '1' }, execArgv: ['--import', 'tsx'] });
  }
  private request<E extends FromChild['ev']>(msg: ToChild | null, ev: E): Promise<Extract<FromChild, { ev: E }>> {
    return new Promise((resolve) => {
      const on = (m: FromChild) => {
        if (m.ev !== ev) return;
        this.child.off('message', on);
        resolve(m as Extract<FromChild, { ev: E }>);
      };
      this.child.on('message', on);
      if (msg) this.child.send(msg);
    });
  }
  connect(kind: 'ws' | 'sio', url: string, n: number, waitSnapshot: boolean) {
    return this.request({ cmd: 'connect', kind, url, n, waitSnapshot }, 'connected');
  }
  /** Arms the counter; the returned promise settles when `count` frames have arrived (child's clock, ms). */
  async expect(count: number, sample = false): Promise<{ done: Promise<number> }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the clients did not receive ${count} frames within ${PHASE_TIMEOUT_MS} ms`)), PHASE_TIMEOUT_MS);
    });
    const done = Promise.race([this.request(null, 'done').then((m) => m.at), timeout]).finally(() => clearTimeout(timer));
    done.catch(() => {});
    this.child.send({ cmd: 'expect', count, sample });
    await new Promise((r) => setTimeout(r, 50)); // the child has armed its counter
    return { done }; // wrapped: an async function returning a bare promise would wait for it
  }
  async samples() {
    return (await this.request({ cmd: 'samples' }, 'samples')).samples;
  }
  disconnect() {
    return this.request({ cmd: 'disconnect' }, 'disconnected');
  }
  kill() {
    this.child.kill();
  }
}

const padding = 'x'.repeat(CHANGE_BYTES - 100);
const changeMessage = (n: number) => ({ type: 'upsert', seq: n, id: `u${n % USERS}`, data: { statusText: `${n} ${padding}` } });
const received = (message: ReceivedUsersMessage['message']): ReceivedUsersMessage => ({ message, receivedAt: performance.now(), icServer: 'bench' });
const user = (id: string, props: Record<string, unknown>): User => ({ configurationId: { id, displayName: id, uri: `/configuration/users/${id}` }, ...props });
const delta = (n: number) =>
  received({ __type: USERS_MESSAGE, isDelta: true, subscriptionId: 'bench', changed: [user(`u${n % USERS}`, { statusText: `${n} ${padding}` })] });

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

const tick = () => new Promise((r) => setImmediate(r));

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** CPU µs this process spends per delivery while `run` runs. */
async function cpuPerDelivery<T>(deliveries: number, run: () => Promise<T>): Promise<[T, number]> {
  const before = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(before);
  return [result, Math.round(((used.user + used.system) / deliveries) * 100) / 100];
}

/** Sends `changes` messages with `sendOne`, yielding to the event loop after each; deliveries per second. */
async function broadcastRate(receivers: Receivers, clients: number, changes: number, sendOne: (n: number) => void): Promise<number> {
  const { done } = await receivers.expect(clients * changes);
  const t0 = now();
  for (let n = 1; n <= changes; n++) {
    sendOne(n);
    await tick();
  }
  return (clients * changes) / (((await done) - t0) / 1000);
}

export default async function fanoutBench({ quick, log }: { quick: boolean; log: (line: string) => void }): Promise<Figures> {
  const clients = quick ? 200 : 1000;
  const changes = quick ? 100 : 300;
  const redisServer = await startPrivateRedis();
  const redis = new Redis(redisServer.url);
  const receivers = new Receivers();
  const figures: Figures = { clients, changeBytes: CHANGE_BYTES, changes };
  try {
    // ---- icwatch: Mirror → Redis → FanoutServer
    // The mirror's writer behind the pipeline's writeToMirror stage, fed from a Subject (as its tests do).
    const { mirror, source, metrics } = await startMirror(redis, PREFIX, { backoff: DEFAULTS.redis.backoff });
    const w = DEFAULTS.websocket;
    const fanout = new FanoutServer({
      redis,
      createSubscriber: () => new Redis(redisServer.url),
      keyPrefix: PREFIX,
      path: w.path,
      tokens: [],
      properties: DEFAULTS.subscription.properties,
      maxBufferedBytes: w.maxBufferedBytes,
      snapshotChunkUsers: w.snapshotChunkUsers,
      pingIntervalMs: w.pingIntervalMs,
      maxClients: clients + 10,
      maxClientFrameBytes: w.maxClientFrameBytes,
      maxClientErrors: w.maxClientErrors,
      version: 'bench',
      metrics,
      logger: silentLogger(),
    });
    const commitAt = new Map<number, number>();
    mirror.committed$.subscribe((b) => {
      const at = now();
      for (let s = b.fromSeq; s <= b.toSeq; s++) commitAt.set(s, at);
      fanout.notifyCommitted(b);
    });
    source.next(
      received({
        __type: USERS_MESSAGE,
        isDelta: false,
        subscriptionId: 'bench',
        added: Array.from({ length: USERS }, (_, i) => user(`u${i}`, { extension: String(1000 + i) })),
      }),
    );
    const fanoutHttp = http.createServer();
    fanout.attach(fanoutHttp);
    const fanoutPort = await listen(fanoutHttp);
    await fanout.start();
    while (Number(await redis.hget(`{${PREFIX}}:meta`, 'users')) < USERS) await new Promise((r) => setTimeout(r, 10));

    figures.rssPerClientKiB = await rssPerClientKiB(receivers, redisServer.url, clients);
    await receivers.connect('ws', `ws://127.0.0.1:${fanoutPort}${w.path}`, clients, true);
    log(`  fanout: ${clients} clients connected, rss ${figures.rssPerClientKiB} KiB per client`);

    let seqNo = 0;
    {
      const { done } = await receivers.expect(clients * changes);
      const [elapsedMs, cpu] = await cpuPerDelivery(clients * changes, async () => {
        const t0 = now();
        for (let i = 0; i < changes; i++) {
          source.next(delta(++seqNo));
          if (i % 50 === 49) await tick();
        }
        return (await done) - t0;
      });
      figures.fanoutDeliveriesPerSec = Math.round((clients * changes) / (elapsedMs / 1000));
      figures.fanoutServerCpuUsPerDelivery = cpu;
      log(`  fanout: ${figures.fanoutDeliveriesPerSec} deliveries/s`);
    }
    {
      const paced = Math.round(PACED_PER_SEC * (quick ? 1 : PACED_SECONDS));
      const { done } = await receivers.expect(clients * paced, true);
      const firstSeq = Number(await redis.hget(`{${PREFIX}}:meta`, 'seq')) + 1;
      const t0 = performance.now();
      for (let i = 0; i < paced; i++) {
        source.next(delta(++seqNo));
        const wait = t0 + ((i + 1) * 1000) / PACED_PER_SEC - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await done;
      const lat = (await receivers.samples())
        .filter(([s]) => s >= firstSeq && commitAt.has(s))
        .map(([s, at]) => at - commitAt.get(s)!)
        .sort((a, b) => a - b);
      figures.fanoutP50Ms = Math.round(percentile(lat, 50) * 100) / 100;
      figures.fanoutP99Ms = Math.round(percentile(lat, 99) * 100) / 100;
      log(`  fanout at ${PACED_PER_SEC}/s: p50 ${figures.fanoutP50Ms} ms, p99 ${figures.fanoutP99Ms} ms (${lat.length} samples)`);
    }
    await receivers.disconnect();
    await fanout.close();
    await mirror.drain(2000);
    fanoutHttp.close();

    // ---- naive: ws.send(JSON.stringify(…)) per client
    {
      const server = http.createServer();
      const wss = new WebSocketServer({ server, perMessageDeflate: false });
      const port = await listen(server);
      await receivers.connect('ws', `ws://127.0.0.1:${port}/`, clients, false);
      while (wss.clients.size < clients) await tick();
      const [rate, cpu] = await cpuPerDelivery(clients * changes, () =>
        broadcastRate(receivers, clients, changes, (n) => {
          const msg = changeMessage(n);
          for (const ws of wss.clients) ws.send(JSON.stringify(msg));
        }),
      );
      figures.naiveDeliveriesPerSec = Math.round(rate);
      figures.naiveServerCpuUsPerDelivery = cpu;
      log(`  naive: ${figures.naiveDeliveriesPerSec} deliveries/s`);
      await receivers.disconnect();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.close();
    }

    // ---- socket.io: io.emit
    {
      const server = http.createServer();
      const io = new SocketIoServer(server, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
      const port = await listen(server);
      await receivers.connect('sio', `http://127.0.0.1:${port}`, clients, false);
      while (io.engine.clientsCount < clients) await tick();
      const [rate, cpu] = await cpuPerDelivery(clients * changes, () => broadcastRate(receivers, clients, changes, (n) => io.emit('change', changeMessage(n))));
      figures.socketioDeliveriesPerSec = Math.round(rate);
      figures.socketioServerCpuUsPerDelivery = cpu;
      log(`  socket.io: ${figures.socketioDeliveriesPerSec} deliveries/s`);
      await receivers.disconnect();
      await io.close();
    }
    figures.fanoutVsNaive = Math.round((figures.fanoutDeliveriesPerSec / figures.naiveDeliveriesPerSec) * 100) / 100;
    figures.fanoutVsSocketio = Math.round((figures.fanoutDeliveriesPerSec / figures.socketioDeliveriesPerSec) * 100) / 100;
    return figures;
  } finally {
    receivers.kill();
    redis.disconnect();
    await redisServer.destroy();
  }
}
