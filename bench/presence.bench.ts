/**
 * Presence at scale (README "Presence: who is available now", docs/presence.md): the simulator (`icwatch simulate`, a
 * child process) serving N users, each with a status; icwatch (`icwatch run`, a child process, the default
 * configuration with presence on, icwatch_available_agents for the simulator's workgroups); a private redis-server: as
 * the directory bench runs them. N = 100,000 unless `--users N` (or ICWATCH_BENCH_USERS) says otherwise: `--users 5000`
 * for a quick check; `--quick` also shortens the timed windows and the shift change and connects fewer clients.
 * Beside icwatch the bench keeps an ICWS session of its own on the simulator following every user's status
 * (bench/status-witness.ts): what the simulator sent, counted without icwatch.
 *
 * Figures, in the order they are measured; the targets are the (`npm run bench -- --only presence --json`):
 * - presenceFirstSyncSeconds: spawn → /readyz 200, meta `users` = N and icwatch_presence_users = the simulator's
 *   statuses (every user has one); presenceUsersSyncSeconds: spawn → /readyz 200 alone. Then STATUS_SAMPLE users'
 *   `{P}:status:<id>` must hold the simulator's statusId and loggedIn (a difference fails the bench).
 * - presenceLagP99Ms (target ≤ 50) and presenceLagP50Ms: the `redis` stage of icwatch_lag_seconds (ICWS message →
 *   commit) over LAG_SECONDS of the simulator's status churn at RATE changes/s (calls, hang-ups, breaks, log-ins…),
 *   from the buckets' difference between a scrape before the churn and one after icwatch has drained it. The churn
 *   skips a change it cannot make (about one in ten), so a warm-up of WARMUP_SECONDS first measures how many it sends
 *   and the window asks for that many more; presenceSentPerSec is the rate the witness received.
 *   presenceKeptFraction (target ≥ 0.98): the increase of icwatch_status_changes_total over the window ÷ the status
 *   changes the simulator sent (presenceChangesSent, counted by the witness); presenceDropped: the increase of
 *   icwatch_statuses_dropped_total (0 expected: every user is known).
 * - presenceShiftChangeSeconds (target ≤ 61: the shift's 60 s and 1 s more): a shift change (`POST
 *   /_sim/shift-change`: presenceShiftAgents logged-out agents, 5,000 at 100,000 users, log in at random moments
 *   within presenceShiftWithinSeconds) → every one of them `loggedIn` true in its `{P}:status:<id>` (pipelined HGETs
 *   every SHIFT_POLL_MS); presenceShiftBehindSeconds: that moment − the last of their logins the witness received.
 * - presenceFanoutP99Ms (target ≤ 50) and presenceFanoutP50Ms: presenceClients WebSocket clients receiving the status
 *   stream while the simulator churns at presenceFanoutRatePerSec (FANOUT_RATE: 200 unless `--fanout-rate N`; why
 *   not RATE: see FANOUT_RATE) changes/s for FANOUT_SECONDS: commit in Redis (the entry's `at`) → receipt, as the
 *   consumers bench times it (bench/consumers-clients.ts: one stopwatch process holding one client in ten, which reads
 *   every frame; LOAD_PROCESSES with the others, reading once a second as remote consumers would).
 *   The clients resume at the current seq (no snapshot of N users each: the stream is what is measured), and
 *   FANOUT_WARMUP_SECONDS of the same churn, not timed, come before the window.
 *   presenceClientsShort: clients that received other bytes than most stopwatch clients (0: every client got every
 *   change); presenceFanoutRedisLagP99Ms and presenceHandOffP99Ms: the `redis` and `websocket` lag stages meanwhile.
 * - presenceRssMiB (target ≤ 500): the most resident memory of all icwatch processes (the primary and its WebSocket
 *   worker, summed from /metrics) at the end of each phase: first sync settled, after the churn, after the shift,
 *   with the clients connected; presencePeakRssMiB: their VmHWM at the end, summed (the first sync's peak included).
 * A phase after the first sync that fails records presence<Phase>Error (its message) and the bench goes on to the next;
 * `--phases fanout` (a comma-separated list of lag, shift and fanout) runs only those after the first sync.
 * ICWATCH_BENCH_LOG=FILE keeps icwatch's log in FILE.
 */
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { DEFAULTS } from '../src/config/defaults.js';
import type { UserStatus } from '../src/icws/user-statuses.js';
import { decodeChangeEntry } from '../src/mirror/change.js';
import { mirrorKeys } from '../src/mirror/keys.js';
import { WORKGROUP_IDS } from '../src/simulator/users.js';
import { metricValue, startIcwatch, startSimulatorProcess, type IcwatchProcess, type SimulatorProcess } from '../test/helpers/processes.js';
import { startPrivateRedis } from '../test/helpers/redis.js';
import { ClientProcess, clientShares, PATH } from './consumers-clients.js';
import { icwatchPids, lagBuckets, memoryByProcess, procStatusMiB, quantileBetween, rssMiB } from './measure.js';
import { presenceEnv, stopStatusChurn } from './presence-switch.js';
import type { Figures } from './run.js';
import { StatusWitness } from './status-witness.js';

const args = process.argv.slice(2);
const USERS = args.includes('--users') ? Number(args[args.indexOf('--users') + 1]) : Number(process.env.ICWATCH_BENCH_USERS ?? 100_000);
/** Status changes per second of the lag window (the issue's). */
const RATE = 2000;
const LAG_SECONDS = 20;
/** `--workers N`: websocket.workers of icwatch (default: the configuration's default, 1). */
const WORKERS = args.includes('--workers') ? args[args.indexOf('--workers') + 1] : undefined;
/** `--phases lag,shift,fanout`: the phases after the first sync that run (default: all), e.g. to look at one of them. */
const ALL_PHASES = ['lag', 'shift', 'fanout'];
const PHASES = new Set(args.includes('--phases') ? (args[args.indexOf('--phases') + 1] ?? '').split(',') : ALL_PHASES);
const LAG_SECONDS_QUICK = 5;
/** Status churn before the lag window, to learn how many of the changes asked for the simulator sends. */
const WARMUP_SECONDS = 3;
/** At most this many changes asked for each one wanted (the simulator's churn skips some: about 1 in 10). */
const MAX_ASKED_PER_SENT = 1.5;
/** Agents of the shift change at 100,000 users (the issue's), in proportion below that. */
const SHIFT_AGENTS = 5000;
const SHIFT_AGENTS_PER_USER = SHIFT_AGENTS / 100_000;
const SHIFT_WITHIN_MS = 60_000;
const SHIFT_WITHIN_MS_QUICK = 10_000;
const SHIFT_POLL_MS = 100;
/** WebSocket clients of the fan-out phase (the issue's), and with --quick. */
const CLIENTS = 1000;
const CLIENTS_QUICK = 200;
const LOAD_PROCESSES = 2;
/**
 * Status changes per second while the clients are timed (`--fanout-rate N`), and for how long. 200/s to 1,000 clients
 * is 200,000 deliveries a second, the consumers bench's (10,000 clients at 20/s): at RATE (2,000,000 deliveries a
 * second) the bench's own clients, on the same cores as icwatch, could not read what they are sent.
 */
const FANOUT_RATE = args.includes('--fanout-rate') ? Number(args[args.indexOf('--fanout-rate') + 1]) : 200;
const FANOUT_SECONDS = 10;
/** Churn at the fan-out's rate before its window (not timed), as the lag phase warms up. */
const FANOUT_WARMUP_SECONDS = 2;
const FANOUT_SECONDS_QUICK = 3;
/** Users whose status in the mirror is compared with the simulator's after the first sync. */
const STATUS_SAMPLE = 500;
const POLL_MS = 50;
const TIMEOUT_MS = 180_000;
/** How long after /readyz a /metrics without icwatch_presence_users means this icwatch does not mirror statuses. */
const NO_PRESENCE_AFTER_MS = 15_000;
/** Clients of the fan-out phase that may fail before the phase itself has failed. */
const MAX_FAILED_SHARE = 0.01;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}
/** A property's value as `{P}:status:<id>` stores it (JSON), decoded; undefined when absent or not JSON. */
function stored(value: string | null | undefined): unknown {
  if (value === null || value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Sums every series of a metric (any labels) in /metrics text; NaN when the metric is not there at all. */
function metricTotal(text: string, name: string): number {
  if (!new RegExp(`^# TYPE ${name} `, 'm').test(text)) return NaN;
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

export default async function presenceBench({ quick, log }: { quick: boolean; log: (line: string) => void }): Promise<Figures> {
  const users = USERS;
  if (!Number.isInteger(users) || users < 100) throw new Error(`--users expects a whole number ≥ 100, got ${users}`);
  if (!(FANOUT_RATE > 0)) throw new Error(`--fanout-rate expects a number of changes per second > 0, got ${FANOUT_RATE}`);
  const unknownPhase = [...PHASES].find((p) => !ALL_PHASES.includes(p));
  if (unknownPhase !== undefined) throw new Error(`--phases expects a comma-separated list of ${ALL_PHASES.join(', ')}, got "${unknownPhase}"`);
  const lagSeconds = quick ? LAG_SECONDS_QUICK : LAG_SECONDS;
  const shiftWithinMs = quick ? SHIFT_WITHIN_MS_QUICK : SHIFT_WITHIN_MS;
  const clients = quick ? CLIENTS_QUICK : CLIENTS;
  const fanoutSeconds = quick ? FANOUT_SECONDS_QUICK : FANOUT_SECONDS;
  const figures: Figures = { presenceUsers: users, presenceRatePerSec: RATE, presenceClients: clients, presenceFanoutRatePerSec: FANOUT_RATE };
  log(`presence: ${users} users, ${RATE} status changes/s for ${lagSeconds} s, shift within ${shiftWithinMs / 1000} s, ${clients} clients`);

  const redis = await startPrivateRedis({ persist: false });
  const sim = await startSimulatorProcess({ users, seed: 5, readyTimeoutMs: TIMEOUT_MS });
  const reader = new Redis(redis.url);
  const keys = mirrorKeys(DEFAULTS.redis.keyPrefix);
  let icwatch: IcwatchProcess | undefined;
  let witness: StatusWitness | undefined;
  const rssAtPhases: number[] = [];
  const phase = async (name: string, run: () => Promise<void>) => {
    if (!PHASES.has(name.toLowerCase())) return;
    try {
      await run();
    } catch (err) {
      log(`presence: ${name} failed: ${(err as Error).message}`);
      figures[`presence${name}Error`] = (err as Error).message.slice(0, 300);
    }
  };
  try {
    // ---- the simulator's truth, and the witness
    await stopStatusChurn(sim);
    const truth = await sim.control<UserStatus[]>('GET', 'statuses');
    witness = await StatusWitness.start(
      sim.url,
      truth.map((s) => s.userId),
      TIMEOUT_MS,
    );
    log(`presence: the simulator holds ${truth.length} statuses (${truth.filter((s) => s.loggedIn).length} logged in); the witness follows them`);

    // ---- first sync: users and statuses
    const spawned = performance.now();
    icwatch = await startIcwatch({
      ICWATCH_ICWS_URL: sim.url,
      ICWATCH_ICWS_PASSWORD: 'icwatch',
      ICWATCH_REDIS_URL: redis.url,
      ICWATCH_WEBSOCKET_MAX_CLIENTS: String(clients + 100),
      ICWATCH_PRESENCE_METRIC_WORKGROUPS: WORKGROUP_IDS.join(','),
      ...(WORKERS ? { ICWATCH_WEBSOCKET_WORKERS: WORKERS } : {}),
      ...presenceEnv('on'),
    });
    const started = icwatch;
    const scrape = async () => (await started.get('/metrics')).text;
    const settledRss = async (what: string) => {
      // Settled as the directory bench's figure is: a second after the phase (the writer collects a replace's garbage
      // once it rests, src/util/collect-garbage.ts).
      await sleep(1000);
      const text = await scrape();
      rssAtPhases.push(rssMiB(text));
      log(`presence: rss ${what} ${rssMiB(text)} MiB (${memoryByProcess(text)})`);
      return text;
    };
    let usersSync = NaN;
    let firstSync = NaN;
    while (performance.now() - spawned < TIMEOUT_MS) {
      const elapsed = performance.now() - spawned;
      if (Number.isNaN(usersSync)) {
        if ((await started.get('/readyz').catch(() => ({ status: 0 }))).status === 200) usersSync = elapsed / 1000;
        else await sleep(POLL_MS);
        continue;
      }
      const text = await scrape();
      const statuses = metricValue(text, 'icwatch_presence_users');
      if (!/^# TYPE icwatch_presence_users /m.test(text) && elapsed - usersSync * 1000 > NO_PRESENCE_AFTER_MS)
        throw new Error(
          `icwatch is ready but its /metrics has no icwatch_presence_users ${NO_PRESENCE_AFTER_MS / 1000} s later: this icwatch does not mirror statuses`,
        );
      if (statuses >= truth.length && Number(await reader.hget(keys.meta, 'users')) === users) {
        firstSync = elapsed / 1000;
        break;
      }
      await sleep(POLL_MS * 2);
    }
    if (Number.isNaN(usersSync)) throw new Error(`icwatch not ready within ${TIMEOUT_MS} ms: ${started.stdout().slice(-2000)}`);
    if (Number.isNaN(firstSync)) {
      const text = await scrape();
      throw new Error(`icwatch_presence_users reached ${metricValue(text, 'icwatch_presence_users')} of ${truth.length} statuses within ${TIMEOUT_MS} ms`);
    }
    figures.presenceUsersSyncSeconds = round(usersSync, 2);
    figures.presenceFirstSyncSeconds = round(firstSync, 2);
    log(`presence: first sync ${firstSync.toFixed(2)} s (users ready after ${usersSync.toFixed(2)} s)`);
    {
      const step = Math.max(1, Math.floor(truth.length / STATUS_SAMPLE));
      const sample = truth.filter((_, i) => i % step === 0).slice(0, STATUS_SAMPLE);
      const got = (await reader.pipeline(sample.map((s) => ['hmget', keys.status(s.userId), 'statusId', 'loggedIn'])).exec()) ?? [];
      const wrong = sample.filter((s, i) => {
        const [statusId, loggedIn] = (got[i]?.[1] ?? []) as (string | null)[];
        return stored(statusId) !== s.statusId || stored(loggedIn) !== (s.loggedIn ?? false);
      });
      if (wrong.length)
        throw new Error(
          `${wrong.length} of ${sample.length} sampled statuses differ from the simulator's, e.g. ${wrong[0]!.userId}: ${JSON.stringify(await reader.hgetall(keys.status(wrong[0]!.userId)))}`,
        );
    }
    await sleep(1000);
    await settledRss('after the first sync');

    // The simulator's churn skips a change it cannot make (a hang-up with nobody on the phone…), so it sends fewer than
    // it is asked for: a warm-up at RATE says how many, and the timed windows ask for as many more.
    const churn = async (perSecond: number, seconds: number) => {
      const before = witness!.changes;
      const t0 = performance.now();
      await sim.control('POST', 'status-churn', { perSecond });
      await sleep(seconds * 1000);
      await sim.control('POST', 'status-churn', { perSecond: 0 });
      const elapsed = (performance.now() - t0) / 1000;
      await witness!.quiet();
      return { sent: witness!.changes - before, seconds: elapsed };
    };
    let askedPerSent = 1;

    // ---- status churn at RATE: the writer's lag, and whether every change was kept
    await phase('Lag', async () => {
      const warm = await churn(RATE, WARMUP_SECONDS);
      askedPerSent = Math.min(MAX_ASKED_PER_SENT, Math.max(1, (RATE * warm.seconds) / Math.max(1, warm.sent)));
      await drained(scrape);
      const before = await scrape();
      const seqBefore = Number(await reader.hget(keys.meta, 'seq'));
      const { sent, seconds } = await churn(Math.round(RATE * askedPerSent), lagSeconds);
      const after = await drained(scrape);
      const seqAfter = Number(await reader.hget(keys.meta, 'seq'));
      const written = metricTotal(after, 'icwatch_status_changes_total') - metricTotal(before, 'icwatch_status_changes_total');
      figures.presenceChangesSent = sent;
      figures.presenceSentPerSec = Math.round(sent / seconds);
      log(
        `presence: ${sent} status changes sent in ${seconds.toFixed(1)} s (${Math.round(RATE * askedPerSent)}/s asked), ${written} counted by icwatch, ` +
          `${seqAfter - seqBefore} entries in the stream`,
      );
      if (Number.isNaN(written)) throw new Error('icwatch_status_changes_total is not on /metrics');
      figures.presenceLagP50Ms = round(quantileBetween(lagBuckets(before, 'redis'), lagBuckets(after, 'redis'), 0.5), 2);
      figures.presenceLagP99Ms = round(quantileBetween(lagBuckets(before, 'redis'), lagBuckets(after, 'redis'), 0.99), 2);
      figures.presenceKeptFraction = sent ? round(written / sent, 4) : NaN;
      figures.presenceDropped = metricTotal(after, 'icwatch_statuses_dropped_total') - metricTotal(before, 'icwatch_statuses_dropped_total');
      log(
        `presence: redis lag p50 ${figures.presenceLagP50Ms} ms p99 ${figures.presenceLagP99Ms} ms, kept ${figures.presenceKeptFraction}, ${figures.presenceDropped} dropped`,
      );
      await settledRss('after the churn');
    });

    // ---- a shift change: SHIFT_AGENTS logging in within shiftWithinMs
    await phase('Shift', async () => {
      const logins = new Map<string, number>();
      const stop = witness!.onChange((s, at) => {
        if (s.loggedIn === true) logins.set(s.userId, at);
      });
      const wanted = Math.max(1, Math.round(users * SHIFT_AGENTS_PER_USER));
      const t0 = performance.now();
      const { ids } = await sim.control<{ ids: string[] }>('POST', 'shift-change', { agents: wanted, withinMs: shiftWithinMs });
      figures.presenceShiftAgents = ids.length;
      figures.presenceShiftWithinSeconds = shiftWithinMs / 1000;
      log(`presence: shift change of ${ids.length} agents (${wanted} asked) within ${shiftWithinMs / 1000} s`);
      const pending = new Set(ids);
      while (pending.size && performance.now() - t0 < shiftWithinMs + TIMEOUT_MS) {
        const list = [...pending];
        const got = (await reader.pipeline(list.map((id) => ['hget', keys.status(id), 'loggedIn'])).exec()) ?? [];
        list.forEach((id, i) => {
          if (stored(got[i]?.[1] as string | null) === true) pending.delete(id);
        });
        if (pending.size) await sleep(SHIFT_POLL_MS);
      }
      const allIn = performance.now();
      stop();
      if (pending.size)
        throw new Error(`${pending.size} of ${ids.length} agents not logged in in the mirror ${Math.round((allIn - t0) / 1000)} s after the shift began`);
      const lastSent = Math.max(...ids.map((id) => logins.get(id) ?? NaN));
      figures.presenceShiftChangeSeconds = round((allIn - t0) / 1000, 2);
      figures.presenceShiftBehindSeconds = round((allIn - lastSent) / 1000, 2);
      log(
        `presence: shift change in the mirror after ${figures.presenceShiftChangeSeconds} s, ${figures.presenceShiftBehindSeconds} s after the last login was sent`,
      );
      await settledRss('after the shift');
    });

    // ---- clients receiving the status stream
    await phase('Fanout', () => fanout(started, sim, reader, keys, { clients, seconds: fanoutSeconds, askedPerSent, figures, settledRss, log }));

    const pids = icwatchPids(started);
    figures.presenceRssMiB = Math.round(Math.max(...rssAtPhases));
    figures.presencePeakRssMiB = Math.round(pids.reduce((total, pid) => total + procStatusMiB(pid, 'VmHWM'), 0));
    await started.stop();
    return figures;
  } finally {
    witness?.close();
    reader.disconnect();
    if (icwatch && process.env.ICWATCH_BENCH_LOG) writeFileSync(process.env.ICWATCH_BENCH_LOG, icwatch.stdout() + icwatch.stderr());
    await icwatch?.stop();
    await sim.stop();
    await redis.destroy();
  }
}

/**
 * /metrics once icwatch has written what it received: icwatch_status_changes_total unchanged for a second and nothing
 * pending (or after 60 s, whatever it says then).
 */
async function drained(scrape: () => Promise<string>): Promise<string> {
  const t0 = performance.now();
  let text = await scrape();
  let last = metricTotal(text, 'icwatch_status_changes_total');
  let since = performance.now();
  while (performance.now() - t0 < 60_000) {
    await sleep(200);
    text = await scrape();
    const now = metricTotal(text, 'icwatch_status_changes_total');
    if (!Object.is(now, last) || metricValue(text, 'icwatch_pending_messages') > 0) [last, since] = [now, performance.now()];
    else if (performance.now() - since >= 1000) break;
  }
  return text;
}

async function fanout(
  icwatch: IcwatchProcess,
  sim: SimulatorProcess,
  reader: Redis,
  keys: ReturnType<typeof mirrorKeys>,
  o: { clients: number; seconds: number; askedPerSent: number; figures: Figures; settledRss: (what: string) => Promise<string>; log: (line: string) => void },
): Promise<void> {
  const { figures, log } = o;
  const workers = DEFAULTS.websocket.workers;
  const stopwatch = new ClientProcess('stopwatch', workers);
  const procs = [stopwatch, ...Array.from({ length: LOAD_PROCESSES }, () => new ClientProcess('load', workers))];
  try {
    const shares = clientShares(o.clients, LOAD_PROCESSES);
    const [epoch, seq] = await reader.hmget(keys.meta, 'epoch', 'seq');
    const url = `ws://127.0.0.1:${icwatch.port}${PATH}`;
    const opened = await Promise.all(
      procs.map((p, i) => p.request({ cmd: 'resume', url, seq: Number(seq), epoch: epoch!, n: shares[i]! }, 'opened', TIMEOUT_MS)),
    );
    const ok = opened.reduce((n, r) => n + r.ok, 0);
    const problem = `${ok} of ${o.clients} clients resumed (${opened.reduce((n, r) => n + r.failed, 0)} failed, ${opened.reduce((n, r) => n + r.resets, 0)} reset): ${opened.find((r) => r.firstError)?.firstError ?? ''}`;
    if (ok < o.clients * (1 - MAX_FAILED_SHARE)) throw new Error(problem);
    if (ok !== o.clients) log(`presence: ${problem}`);
    figures.presenceClientsFailed = o.clients - ok;
    await o.settledRss(`with ${ok} clients connected`);

    if (!stopwatch.deprioritise(false)) log("presence: the stopwatch process could not be given the bench's priority back");
    // Churn at the fan-out's rate (asking for as many more as the simulator skips) for `seconds`, then none.
    const churnFor = async (seconds: number) => {
      await sim.control('POST', 'status-churn', { perSecond: Math.round(FANOUT_RATE * o.askedPerSent) });
      await sleep(seconds * 1000);
      await sim.control('POST', 'status-churn', { perSecond: 0 });
    };
    // Warm-up: no client was live through the earlier phases, so the rounds' code (the worker's, the clients') would
    // run unoptimized for the first second of the window. Stopped before sampling starts: every client process then
    // counts the same stream.
    await churnFor(FANOUT_WARMUP_SECONDS);
    await sleep(1000);
    const before = (await icwatch.get('/metrics')).text;
    for (const p of procs) p.tell({ cmd: 'sample', on: true });
    await sleep(100);
    const firstSeq = Number(await reader.hget(keys.meta, 'seq')) + 1;
    await churnFor(o.seconds);
    await sleep(3000);
    for (const p of procs) p.tell({ cmd: 'sample', on: false });
    stopwatch.deprioritise(true);
    const after = (await icwatch.get('/metrics')).text;
    const lastSeq = Number(await reader.hget(keys.meta, 'seq'));
    const reports = await Promise.all(procs.map((p) => p.request({ cmd: 'samples' }, 'samples', 120_000)));
    // What the stopwatch clients (which read every frame) received, most of them: every client should have the same.
    const expected = [...reports[0]!.bytes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
    figures.presenceClientsShort = reports.flatMap((r) => r.bytes).reduce((n, [bytes, count]) => n + (bytes === expected ? 0 : count), 0);
    const at = new Map<number, number>();
    const entries = (await reader.xrevrange(keys.changes, '+', '-', 'COUNT', Math.max(1, lastSeq - firstSeq + 1))) as [string, string[]][];
    for (const [, fields] of entries) {
      const e = decodeChangeEntry(fields);
      if (e.seq >= firstSeq) at.set(e.seq, e.at);
    }
    if (!at.size) throw new Error(`no change entry in the stream after ${o.seconds} s of status churn`);
    const lat = reports
      .flatMap((r) => r.samples)
      .filter(([s]) => at.has(s))
      .map(([s, t]) => t - at.get(s)!)
      .sort((a, b) => a - b);
    if (!lat.length) throw new Error(`the stopwatch clients received none of the ${at.size} changes (${figures.presenceClientsShort} clients short)`);
    figures.presenceFanoutP50Ms = round(percentile(lat, 50));
    figures.presenceFanoutP99Ms = round(percentile(lat, 99));
    figures.presenceFanoutRedisLagP99Ms = round(quantileBetween(lagBuckets(before, 'redis'), lagBuckets(after, 'redis'), 0.99), 2);
    figures.presenceHandOffP99Ms = round(quantileBetween(lagBuckets(before, 'websocket'), lagBuckets(after, 'websocket'), 0.99), 2);
    log(
      `presence: ${ok} clients at ${FANOUT_RATE}/s: p50 ${figures.presenceFanoutP50Ms} ms, p99 ${figures.presenceFanoutP99Ms} ms ` +
        `(${lat.length} samples of ${at.size} changes), redis lag p99 ${figures.presenceFanoutRedisLagP99Ms} ms, hand-off p99 ${figures.presenceHandOffP99Ms} ms, ` +
        `${figures.presenceClientsShort} clients short of ${expected} bytes`,
    );
    await o.settledRss('after the clients');
    await Promise.all(procs.map((p) => p.request({ cmd: 'disconnect' }, 'disconnected', 60_000)));
  } finally {
    for (const p of procs) p.kill();
  }
}
