/**
 * A big directory with the default configuration (issue 12): the simulator (`icwatch simulate`, a child process)
 * serving N users, icwatch (`icwatch run`, a child process, defaults but for the URLs) and a private redis-server.
 * N = 100,000 unless `--users N` (or ICWATCH_BENCH_USERS) says otherwise.
 *
 * Figures: dirFirstSyncSeconds (spawn → /readyz 200), dirResyncSeconds (expire the sessions → the new full replace
 * applied: meta syncedAt moves; nothing changed), dirRssMiB (the RSS of every icwatch process after the first sync,
 * settled: the primary and its WebSocket worker; dirWriterRssMiB the primary's alone), dirPeakRssMiB (their VmHWM at
 * the end, summed), dirRedisUsedMiB (used_memory), dirMaxStallMs (the longest answer time of
 * /healthz, asked every 50 ms from the moment icwatch listens to the end of the re-sync), dirIcwatchCpuSeconds
 * (CPU the icwatch processes used for both, to read the times against a shared machine's load) and dirMirrorBytesPerUser (heap
 * per user of the writer's in-memory mirror, measured by bench/mirror-memory.ts on the same generated users).
 * ICWATCH_BENCH_LOG=FILE keeps icwatch's log in FILE and the slow /healthz answers in FILE.slow.
 * `--presence off|on` (bench/presence-switch.ts; default off, as the figures of earlier runs were measured): whether
 * icwatch also mirrors user statuses (presence.enabled); dirPresence says which.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { DEFAULTS } from '../src/config/defaults.js';
import { mirrorKeys } from '../src/mirror/keys.js';
import { metricValue, startIcwatch, startSimulatorProcess } from '../test/helpers/processes.js';
import { startPrivateRedis } from '../test/helpers/redis.js';
import { icwatchPids, procStatusMiB } from './measure.js';
import { presenceEnv, presenceSwitch, stopStatusChurn } from './presence-switch.js';
import type { Figures } from './run.js';

const args = process.argv.slice(2);
const USERS = args.includes('--users') ? Number(args[args.indexOf('--users') + 1]) : Number(process.env.ICWATCH_BENCH_USERS ?? 100_000);
const POLL_MS = 50;
const TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One GET on a kept-alive connection: status and the time to the end of the answer. */
function timedGet(agent: Agent, url: string): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    req.on('error', reject);
  });
}

/** /healthz every POLL_MS (one in flight): the longest answer time while it runs. */
function stallProbe(base: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let max = 0;
  let running = true;
  const t0 = performance.now();
  const slow: string[] = [];
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const r = await timedGet(agent, `${base}/healthz`).catch(() => ({ status: 0, ms: 0 }));
      max = Math.max(max, r.ms);
      if (r.ms > 80 && process.env.ICWATCH_BENCH_LOG) slow.push(`${Math.round(started - t0)} ms: ${Math.round(r.ms)}`);
      await sleep(Math.max(0, POLL_MS - (performance.now() - started)));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
      if (process.env.ICWATCH_BENCH_LOG) writeFileSync(`${process.env.ICWATCH_BENCH_LOG}.slow`, slow.join('\n'));
      return max;
    },
  };
}

/** Heap bytes per user of the writer's in-memory mirror, measured in a child with --expose-gc (bench/mirror-memory.ts). */
function mirrorBytesPerUser(count: number): number {
  const script = fileURLToPath(new URL('./mirror-memory.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, String(count)], { encoding: 'utf8' });
  return Number(out.trim());
}

/** user + system CPU seconds a process has used (/proc/PID/stat, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export default async function directory({ log }: { quick: boolean; log: (line: string) => void }): Promise<Figures> {
  const users = USERS;
  const presence = presenceSwitch('off');
  log(`directory: ${users} users, presence ${presence}`);
  const redis = await startPrivateRedis({ persist: false });
  const sim = await startSimulatorProcess({ users, seed: 1, readyTimeoutMs: TIMEOUT_MS });
  const reader = new Redis(redis.url);
  const keys = mirrorKeys(DEFAULTS.redis.keyPrefix);
  try {
    await stopStatusChurn(sim);
    const spawned = performance.now();
    const icwatch = await startIcwatch({
      ICWATCH_ICWS_URL: sim.url,
      ICWATCH_ICWS_PASSWORD: 'icwatch',
      ICWATCH_REDIS_URL: redis.url,
      ...presenceEnv(presence),
    });
    const probe = stallProbe(icwatch.base);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let firstSync = NaN;
    while (performance.now() - spawned < TIMEOUT_MS) {
      const r = await timedGet(agent, `${icwatch.base}/readyz`).catch(() => ({ status: 0, ms: 0 }));
      if (r.status === 200) {
        firstSync = (performance.now() - spawned) / 1000;
        break;
      }
      await sleep(POLL_MS);
    }
    agent.destroy();
    if (Number.isNaN(firstSync)) throw new Error(`icwatch not ready within ${TIMEOUT_MS} ms: ${icwatch.stdout().slice(-2000)}`);
    const mirrored = await reader.scard(keys.ids);
    if (mirrored !== users) throw new Error(`the mirror holds ${mirrored} users, expected ${users}`);
    log(`directory: first sync ${firstSync.toFixed(2)} s`);
    await sleep(1000);
    // Every icwatch process: the primary (the writer) and its WebSocket workers (websocket.workers, default 1).
    const sum = (f: (pid: number) => number) => icwatchPids(icwatch).reduce((total, pid) => total + f(pid), 0);
    const writerRss = procStatusMiB(icwatch.child.pid!, 'VmRSS');
    const rss = sum((pid) => procStatusMiB(pid, 'VmRSS'));
    const heap = (await icwatch.get('/metrics')).text;
    const mib = (name: string) => Math.round(metricValue(heap, `${name}{worker="primary"}`) / 1048576);
    log(
      `directory: after sync rss ${Math.round(rss)} MiB (the writer's ${Math.round(writerRss)}), writer heap used ${mib('nodejs_heap_size_used_bytes')} of ${mib('nodejs_heap_size_total_bytes')} MiB, external ${mib('nodejs_external_memory_bytes')} MiB`,
    );

    const [seqBefore, syncedBefore] = await reader.hmget(keys.meta, 'seq', 'syncedAt');
    const expired = Date.now();
    await sim.control('POST', 'expire-sessions');
    let resync = NaN;
    while (Date.now() - expired < TIMEOUT_MS) {
      const syncedAt = await reader.hget(keys.meta, 'syncedAt');
      if (syncedAt && syncedAt !== syncedBefore) {
        resync = (Number(syncedAt) - expired) / 1000;
        break;
      }
      await sleep(10);
    }
    if (Number.isNaN(resync)) {
      if (process.env.ICWATCH_BENCH_LOG) writeFileSync(process.env.ICWATCH_BENCH_LOG, icwatch.stdout() + icwatch.stderr());
      throw new Error('no new full replace applied after the session expiry');
    }
    const seqAfter = await reader.hget(keys.meta, 'seq');
    if (seqAfter !== seqBefore) throw new Error(`the re-sync of an unchanged directory wrote changes (seq ${seqBefore} → ${seqAfter})`);
    log(`directory: re-sync ${resync.toFixed(2)} s`);
    await sleep(500);
    const maxStall = await probe.stop();
    const peak = sum((pid) => procStatusMiB(pid, 'VmHWM'));
    const cpu = sum(cpuSeconds);
    const usedMemory = Number(/used_memory:(\d+)/.exec(await reader.info('memory'))![1]) / 1048576;
    const text = (await icwatch.get('/metrics')).text;
    if (metricValue(text, 'icwatch_users') !== users) throw new Error('icwatch_users disagrees');
    await icwatch.stop();
    // ICWATCH_BENCH_LOG=FILE keeps icwatch's output (its log) for a look afterwards.
    if (process.env.ICWATCH_BENCH_LOG) writeFileSync(process.env.ICWATCH_BENCH_LOG, icwatch.stdout() + icwatch.stderr());
    return {
      dirUsers: users,
      dirPresence: presence,
      dirFirstSyncSeconds: Math.round(firstSync * 100) / 100,
      dirResyncSeconds: Math.round(resync * 100) / 100,
      dirRssMiB: Math.round(rss),
      dirWriterRssMiB: Math.round(writerRss),
      dirPeakRssMiB: Math.round(peak),
      dirRedisUsedMiB: Math.round(usedMemory),
      dirMaxStallMs: Math.round(maxStall),
      dirIcwatchCpuSeconds: Math.round(cpu * 10) / 10,
      dirMirrorBytesPerUser: mirrorBytesPerUser(users),
    };
  } finally {
    reader.disconnect();
    await sim.stop();
    await redis.destroy();
  }
}
