/**
 * `npm run bench:soak [-- --minutes 10] [-- --json]`: icwatch as a child process under sustained churn, with a
 * session expiry every minute and WebSocket clients reconnecting every few seconds. Reports icwatch's RSS and
 * event-loop delay (p99 over each window, from its own /metrics) at the start and at the end: flat is the target.
 * At the end the mirror, the followers and the simulator must agree (else exit 1).
 */
import { DEFAULTS } from '../src/config/defaults.js';
import { IcwatchClient } from '../src/client/index.js';
import { metricValue } from '../test/helpers/processes.js';
import { SECRETS, Stack } from '../test/chaos/harness.js';
import { difference } from '../test/helpers/mirror.js';

const args = process.argv.slice(2);
const minutes = args.includes('--minutes') ? Number(args[args.indexOf('--minutes') + 1]) : 10;
const json = args.includes('--json');
const CHURN_PER_SEC = 200;
const USERS = 5000;
const CLIENTS = 20;
const EXPIRE_EVERY_MS = 60_000;
const RECONNECT_EVERY_MS = 5_000;
const SAMPLE_EVERY_MS = 30_000;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Sample {
  atS: number;
  rssMiB: number;
  heapMiB: number;
  loopP99Ms: number;
  seq: number;
}

const stack = await Stack.start({ users: USERS, seed: 11 });
await stack.converged(120000);
const url = `ws://127.0.0.1:${stack.icwatch.port}${DEFAULTS.websocket.path}`;
const clients = Array.from({ length: CLIENTS }, () => {
  const c = new IcwatchClient({ url, token: SECRETS.token, backoff: { initialMs: 50, maxMs: 1000, multiplier: 2, jitter: 0.5 } });
  c.on('error', () => {});
  return c.start();
});

const started = Date.now();
const samples: Sample[] = [];
const sample = async () => {
  const text = (await stack.icwatch.get('/metrics')).text;
  const s: Sample = {
    atS: Math.round((Date.now() - started) / 1000),
    rssMiB: Math.round(metricValue(text, 'process_resident_memory_bytes') / 1048576),
    heapMiB: Math.round(metricValue(text, 'nodejs_heap_size_used_bytes') / 1048576),
    loopP99Ms: Math.round(metricValue(text, 'nodejs_eventloop_lag_p99_seconds') * 10000) / 10,
    seq: metricValue(text, 'icwatch_seq'),
  };
  samples.push(s);
  log(`soak t=${s.atS}s rss=${s.rssMiB}MiB heap=${s.heapMiB}MiB loopP99=${s.loopP99Ms}ms seq=${s.seq}`);
};

await sample();
stack.sim.control.setChurnRate(CHURN_PER_SEC);
const timers = [
  setInterval(() => stack.sim.control.expireSessions(), EXPIRE_EVERY_MS),
  setInterval(() => clients[Math.floor(Math.random() * CLIENTS)]!.drop(), (RECONNECT_EVERY_MS / CLIENTS) * 4),
  setInterval(() => void sample(), SAMPLE_EVERY_MS),
];
await new Promise((r) => setTimeout(r, minutes * 60_000));
await sample(); // the last window, still under churn
for (const t of timers) clearInterval(t);
stack.sim.control.setChurnRate(0);

let converged = true;
try {
  await stack.converged(120000);
  const mirror = await stack.mirror();
  for (const c of clients) if (difference(mirror, c.users)) converged = false;
} catch (err) {
  log(String(err));
  converged = false;
}
const first = samples[1] ?? samples[0]!;
const last = samples[samples.length - 1]!;
const result = {
  soakMinutes: minutes,
  churnPerSec: CHURN_PER_SEC,
  users: USERS,
  clients: CLIENTS,
  changesApplied: last.seq - samples[0]!.seq,
  rssStartMiB: first.rssMiB,
  rssEndMiB: last.rssMiB,
  heapStartMiB: first.heapMiB,
  heapEndMiB: last.heapMiB,
  loopP99StartMs: first.loopP99Ms,
  loopP99EndMs: last.loopP99Ms,
  converged,
};
for (const c of clients) await c.stop();
await stack.close();
if (json) process.stdout.write(JSON.stringify(result) + '\n');
else for (const [k, v] of Object.entries(result)) process.stdout.write(`${k.padEnd(20)} ${v}\n`);
process.exit(converged ? 0 : 1);
