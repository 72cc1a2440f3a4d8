/**
 * Many consumers of one `icwatch run` (docs/architecture.md, "Processes"): USERS users in the directory (the
 * simulator), CLIENTS clients in child processes (bench/consumers-clients.ts: one stopwatch process with one client
 * in SAMPLE_EVERY, LOAD_PROCESSES with the others), with websocket.workers at 1 and at 2 (figures suffixed W1 / W2).
 * For each:
 * - c10kConnectSeconds: CLIENTS fresh clients, each getting the WebSocket snapshot, until the last one has it;
 * - c10kP50Ms / c10kP99Ms: commit in Redis (the change entry's `at`) → receipt by a client, at PACED_PER_SEC changes
 *   per second made on the simulator, sampled on the stopwatch clients;
 * - c10kClientsShort: clients that received fewer (or other) bytes of live changes in that phase than the stopwatch
 *   clients did (0: every client got every change);
 * - c10kRedisLagP99Ms: p99 of icwatch_lag_seconds{stage="redis"} during that phase (the buckets' difference, from
 *   /metrics): whether the writer kept its latency while the workers fanned out;
 * - c10kRedisApplyP99Ms: p99 of icwatch_redis_apply_duration_seconds in that phase, the Redis round trip's share of
 *   c10kRedisLagP99Ms (the rest is the writer's own event loop: reading the message, planning, the commit);
 * - c10kRssMiB: process_resident_memory_bytes of every icwatch process (the primary and each worker, from /metrics)
 *   with the clients connected;
 * - c10kHttpStartSeconds: CLIENTS fresh clients that GET /v1/users (gzip) and then open the WebSocket with
 *   since/epoch of that answer, until the last one is resumed (hello at its seq, no reset).
 * - c10kRawRoundMs: the floor of a round on this machine (bench/raw-round.ts): one process writing a change-sized
 *   buffer to CLIENTS plain loopback sockets, measured first in the same run;
 * - c10kHandOffP99Ms: p99 of icwatch_lag_seconds{stage="websocket"} in that phase: arrival from ICWS → the round
 *   that carried the change written to every client's socket, the server's share of c10kP99Ms;
 * The load processes run at nice +10 and read their sockets once a second (bench/batched-reads.ts): they stand in
 * for consumers on other machines, which would not take this machine's two cores; icwatch writes to them as to any
 * client. For the same reason the client processes are kept off the first `websocket.workers` cores when the
 * machine has more (confineClients: with W1 here, on the second core; with W2 on two cores, anywhere). The stopwatch
 * process runs at the bench's own priority while it samples. A client
 * that fails (closed before its snapshot) is counted in c10kConnectFailed / c10kHttpStartFailed; more than 1 % fails
 * the phase (c10kError).
 * `consumersClients` says how many clients the c10k figures are for (ICWATCH_CONSUMERS_BENCH_CLIENTS, default 10000; --quick 1000).
 * ICWATCH_CONSUMERS_BENCH_WORKERS (default `1,2`) says which websocket.workers settings are measured.
 * `--presence off|on` (bench/presence-switch.ts; default off, as the figures of earlier runs were measured): whether
 * icwatch also mirrors user statuses (presence.enabled: snapshots carry each user's status); consumersPresence says which.
 * With `--only consumers` the fan-out bench (bench/fanout.bench.ts) runs first in the same run and its figures are
 * included; without --only, run.ts runs it on its own anyway.
 */
import { Redis } from 'ioredis';
import { startPrivateRedis } from '../test/helpers/redis.js';
import { killAll, metricValue, startIcwatch, startSimulatorProcess, type IcwatchProcess } from '../test/helpers/processes.js';
import { decodeChangeEntry } from '../src/mirror/change.js';
import { ClientProcess, clientShares, now, PATH, type FromChild } from './consumers-clients.js';
import { bucketCounts, histogramBuckets, lagBuckets, memoryByProcess, quantileBetween, rssMiB } from './measure.js';
import { presenceEnv, presenceSwitch, stopStatusChurn, type Presence } from './presence-switch.js';
import { rawRound } from './raw-round.js';
import type { Figures } from './run.js';

const USERS = 10_000;
/** Processes holding the clients that are not sampled. */
const LOAD_PROCESSES = 4;
const PACED_PER_SEC = 20;
const PACED_SECONDS = 10;
/** websocket.workers settings measured (ICWATCH_CONSUMERS_BENCH_WORKERS=1 for W1 alone). */
const WORKERS = (process.env.ICWATCH_CONSUMERS_BENCH_WORKERS ?? '1,2').split(',').map(Number);
/** A phase that has not finished after this long has failed (rather than hanging the bench). */
const PHASE_TIMEOUT_MS = 420_000;
const PREFIX = 'icwatch:consumers';
/** Clients of a phase that may fail (counted in c10k*FailedW*) before the phase itself has failed. */
const MAX_FAILED_SHARE = 0.01;

// ---------------------------------------------------------------- measuring side

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function phase<T>(what: string, log: (l: string) => void, run: () => Promise<T>): Promise<[T, number]> {
  const t0 = now();
  const result = await run();
  const seconds = round((now() - t0) / 1000, 2);
  log(`  ${what}: ${seconds} s`);
  return [result, seconds];
}

/** The clients that did not get there, logged; more than MAX_FAILED_SHARE of them fails the phase. */
function expectAll(what: string, results: Extract<FromChild, { ev: 'opened' }>[], wanted: number, log: (l: string) => void): number {
  const ok = results.reduce((n, r) => n + r.ok, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const resets = results.reduce((n, r) => n + r.resets, 0);
  const summary = `${what}: ${ok} of ${wanted} clients got there (${failed} failed, ${resets} reset): ${results.find((r) => r.firstError)?.firstError ?? ''}`;
  if (ok < wanted * (1 - MAX_FAILED_SHARE)) throw new Error(summary);
  if (ok !== wanted) log(`  ${summary}`);
  return wanted - ok;
}

async function measure(
  workers: number,
  clients: number,
  ctx: {
    redisUrl: string;
    simUrl: string;
    sim: Awaited<ReturnType<typeof startSimulatorProcess>>;
    ids: string[];
    presence: Presence;
    log: (l: string) => void;
  },
): Promise<Figures> {
  const { log } = ctx;
  const prefix = `${PREFIX}:w${workers}:${Date.now()}`;
  const redis = new Redis(ctx.redisUrl);
  let icwatch: IcwatchProcess | undefined;
  const stopwatch = new ClientProcess('stopwatch', workers);
  const procs = [stopwatch, ...Array.from({ length: LOAD_PROCESSES }, () => new ClientProcess('load', workers))];
  const shares = clientShares(clients, LOAD_PROCESSES);
  log(`  W${workers}: client processes ${procs.every((p) => p.confined) ? `kept off the workers' ${workers} core(s)` : 'on every core'}`);
  const figures: Figures = {};
  const suffix = `W${workers}`;
  try {
    icwatch = await startIcwatch({
      ICWATCH_REDIS_URL: ctx.redisUrl,
      ICWATCH_REDIS_KEY_PREFIX: prefix,
      ICWATCH_ICWS_URL: ctx.simUrl,
      ICWATCH_ICWS_PASSWORD: 'icwatch',
      ICWATCH_WEBSOCKET_WORKERS: String(workers),
      ICWATCH_WEBSOCKET_MAX_CLIENTS: String(clients + 100),
      ...presenceEnv(ctx.presence),
      // For a look inside: ICWATCH_CONSUMERS_BENCH_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=DIR" profiles every icwatch process.
      ...(process.env.ICWATCH_CONSUMERS_BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.ICWATCH_CONSUMERS_BENCH_NODE_OPTIONS } : {}),
    });
    const deadline = Date.now() + 120_000;
    while ((await icwatch.get('/readyz')).status !== 200) {
      if (Date.now() > deadline) throw new Error('icwatch was not ready within 120 s');
      await sleep(250);
    }
    const base = icwatch.base;
    const wsUrl = `ws://127.0.0.1:${icwatch.port}${PATH}`;
    log(`  ${suffix}: icwatch ready with ${USERS} users, ${workers} worker(s); connecting ${clients} clients`);

    const [connected, connectSeconds] = await phase(`${suffix} ${clients} clients connected with a snapshot`, log, () =>
      Promise.all(procs.map((p, i) => p.request({ cmd: 'ws', url: wsUrl, n: shares[i]! }, 'opened', PHASE_TIMEOUT_MS))),
    );
    figures[`c10kConnectFailed${suffix}`] = expectAll('WebSocket snapshot', connected, clients, log);
    figures[`c10kConnectSeconds${suffix}`] = connectSeconds;

    // ---- paced changes with every client connected
    const before = (await icwatch.get('/metrics')).text;
    if (!stopwatch.deprioritise(false)) log(`  ${suffix}: the stopwatch process could not be given the bench's priority back`);
    for (const p of procs) p.tell({ cmd: 'sample', on: true });
    await sleep(100);
    const firstSeq = Number(await redis.hget(`{${prefix}}:meta`, 'seq')) + 1;
    const paced = PACED_PER_SEC * PACED_SECONDS;
    const t0 = performance.now();
    for (let i = 0; i < paced; i++) {
      await ctx.sim.control('POST', `users/${encodeURIComponent(ctx.ids[i % ctx.ids.length]!)}`, { statusText: `bench ${workers} ${i}` });
      const wait = t0 + ((i + 1) * 1000) / PACED_PER_SEC - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await sleep(3000);
    for (const p of procs) p.tell({ cmd: 'sample', on: false });
    stopwatch.deprioritise(true);
    const after = (await icwatch.get('/metrics')).text;
    const reports = await Promise.all(procs.map((p) => p.request({ cmd: 'samples' }, 'samples', 60_000)));
    const samples = reports.flatMap((r) => r.samples);
    // What the stopwatch clients (which read every frame) received, most of them: every client should have the same.
    const expected = [...reports[0]!.bytes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
    figures[`c10kClientsShort${suffix}`] = reports.flatMap((r) => r.bytes).reduce((n, [bytes, count]) => n + (bytes === expected ? 0 : count), 0);
    const entries = (await redis.xrange(`{${prefix}}:changes`, '-', '+')) as [string, string[]][];
    const at = new Map<number, number>();
    for (const [, fields] of entries) {
      const e = decodeChangeEntry(fields);
      if (e.seq >= firstSeq) at.set(e.seq, e.at);
    }
    const lat = samples
      .filter(([s]) => at.has(s))
      .map(([s, t]) => t - at.get(s)!)
      .sort((a, b) => a - b);
    figures[`c10kP50Ms${suffix}`] = round(percentile(lat, 50));
    figures[`c10kP99Ms${suffix}`] = round(percentile(lat, 99));
    const redisLag = [lagBuckets(before, 'redis'), lagBuckets(after, 'redis')] as const;
    figures[`c10kRedisLagP99Ms${suffix}`] = round(quantileBetween(...redisLag, 0.99), 2);
    const apply = (text: string) => histogramBuckets(text, 'icwatch_redis_apply_duration_seconds');
    figures[`c10kRedisApplyP99Ms${suffix}`] = round(quantileBetween(apply(before), apply(after), 0.99), 2);
    figures[`c10kHandOffP99Ms${suffix}`] = round(quantileBetween(lagBuckets(before, 'websocket'), lagBuckets(after, 'websocket'), 0.99), 2);
    figures[`c10kRssMiB${suffix}`] = rssMiB(after);
    figures[`c10kWsClients${suffix}`] = metricValue(after, 'icwatch_ws_clients');
    log(
      `  ${suffix} at ${PACED_PER_SEC}/s: p50 ${figures[`c10kP50Ms${suffix}`]} ms, p99 ${figures[`c10kP99Ms${suffix}`]} ms (${lat.length} samples of ${at.size} changes), redis lag p99 ${figures[`c10kRedisLagP99Ms${suffix}`]} ms (${bucketCounts(...redisLag)}; apply round trip p99 ${figures[`c10kRedisApplyP99Ms${suffix}`]} ms), hand-off p99 ${figures[`c10kHandOffP99Ms${suffix}`]} ms, ${figures[`c10kClientsShort${suffix}`]} clients short of ${expected} bytes, rss ${figures[`c10kRssMiB${suffix}`]} MiB (${memoryByProcess(after)}), ${figures[`c10kWsClients${suffix}`]} clients in /metrics`,
    );
    await Promise.all(procs.map((p) => p.request({ cmd: 'disconnect' }, 'disconnected', 60_000)));
    await sleep(2000);

    // ---- fresh clients starting from HTTP
    const [started, httpSeconds] = await phase(`${suffix} ${clients} clients started from GET ${PATH}`, log, () =>
      Promise.all(procs.map((p, i) => p.request({ cmd: 'http', base, url: wsUrl, n: shares[i]! }, 'opened', PHASE_TIMEOUT_MS))),
    );
    figures[`c10kHttpStartFailed${suffix}`] = expectAll('HTTP start', started, clients, log);
    figures[`c10kHttpStartSeconds${suffix}`] = httpSeconds;
    await Promise.all(procs.map((p) => p.request({ cmd: 'disconnect' }, 'disconnected', 60_000)));
    return figures;
  } catch (err) {
    log(`  ${suffix}: ${(err as Error).message}`);
    figures[`c10kError${suffix}`] = (err as Error).message.slice(0, 300);
    return figures;
  } finally {
    for (const p of procs) p.kill();
    await icwatch?.stop('SIGTERM', 30_000);
    await redis.quit();
  }
}

export default async function consumersBench({ quick, log }: { quick: boolean; log: (line: string) => void }): Promise<Figures> {
  const figures: Figures = {};
  const presence = presenceSwitch('off');
  const args = process.argv.slice(2);
  if (args.includes('--only')) {
    const fanout = await import('./fanout.bench.js');
    log('bench consumers: the fan-out figures first (bench/fanout.bench.ts)');
    Object.assign(figures, await fanout.default({ quick, log }));
  }
  const clients = Number(process.env.ICWATCH_CONSUMERS_BENCH_CLIENTS ?? (quick ? 1000 : 10_000));
  figures.consumersClients = clients;
  figures.consumersPresence = presence;
  figures.users = USERS;
  const redisServer = await startPrivateRedis();
  const sim = await startSimulatorProcess({ users: USERS, seed: 7 });
  try {
    await stopStatusChurn(sim);
    const users = await sim.control<{ configurationId: { id: string } }[]>('GET', 'users');
    const ids = users.slice(0, 500).map((u) => u.configurationId.id);
    const raw = await rawRound(clients, LOAD_PROCESSES);
    figures.c10kRawRoundMs = round(raw.roundMs);
    log(`  raw round: ${clients} loopback socket writes by one process in ${round(raw.roundMs)} ms (${round(raw.usPerWrite)} µs each)`);
    for (const workers of WORKERS)
      Object.assign(figures, await measure(workers, clients, { redisUrl: redisServer.url, simUrl: sim.url, sim, ids, presence, log }));
    return figures;
  } finally {
    await sim.stop();
    killAll();
    await redisServer.destroy();
  }
}
