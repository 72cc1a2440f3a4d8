/**
 * HTTP reads cannot be turned into a CPU weapon (README, "HTTP reads"): USERS users in the mirror, one WebSocket client
 * following a change every CHANGE_EVERY_MS (a probe process of its own, test/http/live-probe.ts, which writes the change
 * and times it to its receipt), and another process asking for BURST bodies of distinct `props` at once, half of them
 * gzip. The same server as test/http/body-builds.test.ts (test/http/harness.ts), the same load.
 * - readsQuietP99Ms: the client's delay (write → receipt) p99 with no read running, the baseline of the same run;
 * - readsBurstP99Ms: the same while the BURST bodies are built and sent (target ≤ 100);
 * - readsBurstSeconds: the time until the last of the BURST answers was received;
 * - readsBurstVsQuiet: readsBurstP99Ms / readsQuietP99Ms.
 */
import { Redis } from 'ioredis';
import { DEFAULTS } from '../src/config/defaults.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../test/helpers/redis.js';
import { get, quantile, startReadsServer, subsets } from '../test/http/harness.js';
import { LiveProbe } from '../test/http/live-probe.js';
import type { Figures } from './run.js';

const CHANGE_EVERY_MS = 20;
const QUIET_MS = 3000;

export default async function readsBench({ quick, log }: { quick: boolean; log: (line: string) => void }): Promise<Figures> {
  const users = quick ? 2_000 : 10_000;
  const burst = quick ? 20 : 100;
  const redis = new Redis(SHARED_REDIS_URL);
  const prefix = uniquePrefix('bench-reads');
  const probe = new LiveProbe(SHARED_REDIS_URL, prefix);
  const reader = new LiveProbe(SHARED_REDIS_URL, prefix);
  const server = await (async () => {
    await probe.fill(users);
    return startReadsServer(redis, prefix, [], {}, { maxQueuedBuilds: 1000 });
  })();
  try {
    // The full directory once (it loads the view), then the client follows.
    const full = await get(`${server.base}/v1/users`);
    if (full.status !== 200) throw new Error(`GET /v1/users answered ${full.status}`);
    await probe.follow(`${server.base.replace('http', 'ws')}/v1/users`, CHANGE_EVERY_MS);
    await probe.window();
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const quiet = await probe.window();

    const combos = subsets(DEFAULTS.subscription.properties).slice(0, burst);
    const started = performance.now();
    const answers = await reader.get(
      combos.map((c, i): { url: string; headers: Record<string, string> } => ({
        url: `${server.base}/v1/users?props=${c.join(',')}`,
        headers: i % 2 ? { 'accept-encoding': 'gzip' } : {},
      })),
    );
    const readsBurstSeconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 500));
    const during = await probe.window();
    const refused = answers.filter((a) => a.status !== 200).length;
    if (refused) throw new Error(`${refused} of the ${burst} reads were not answered 200`);
    if (during.received < during.written - 5) throw new Error(`the client received ${during.received} of ${during.written} changes during the reads`);

    const readsQuietP99Ms = quantile(quiet.delaysMs, 0.99);
    const readsBurstP99Ms = quantile(during.delaysMs, 0.99);
    log(
      `  ${burst} props reads at ${users} users in ${readsBurstSeconds.toFixed(1)} s: client delay p99 ${readsBurstP99Ms} ms ` +
        `(quiet: ${readsQuietP99Ms} ms) over ${during.received} changes`,
    );
    return {
      readsUsers: users,
      readsBurst: burst,
      readsQuietP99Ms,
      readsBurstP99Ms,
      readsBurstSeconds: Math.round(readsBurstSeconds * 100) / 100,
      readsBurstVsQuiet: readsBurstP99Ms / Math.max(1, readsQuietP99Ms),
    };
  } finally {
    await probe.stop();
    await reader.stop();
    await server.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
  }
}
