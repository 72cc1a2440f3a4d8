/**
 * The Redis mirror against a private redis-server (so that other load on the shared server does not disturb it):
 * - rawHsetUsersPerSec: the generated users written as plain pipelined HSETs of their JSON-encoded properties,
 *   the baseline measured in the same run;
 * - fullReplaceUsersPerSec: the same users as a full replace into an empty mirror (hashes, ids, index, one stream
 *   entry per user, meta), and resyncUsersPerSec: the same replace again, unchanged (parsed users, as polling gives
 *   them); resyncStreamedUsersPerSec: again, as its text read by the SSE path (src/icws/text-digest.ts), reading
 *   included;
 * - deltaChangesPerSec: property changes per second committed under an offered load of DELTA_OFFERED_PER_SEC
 *   (two properties per message, as a status change does), with the per-message lag from arrival to commit;
 *   deltaMaxChangesPerSec: the same with every message queued at once (saturation).
 */
import { Redis } from 'ioredis';
import { startPrivateRedis } from '../test/helpers/redis.js';
import { generateUsers } from '../src/simulator/users.js';
import { startMirror } from '../test/mirror/fixtures.js';
import { mirrorKeys } from '../src/mirror/keys.js';
import type { Metrics } from '../src/metrics/metrics.js';
import { DEFAULTS } from '../src/config/defaults.js';
import { StreamedMessage } from '../src/icws/message-stream.js';
import { USERS_MESSAGE, type ReceivedUsersMessage, type User } from '../src/icws/messages.js';
import type { Figures } from './run.js';

const PREFIX = 'icwatch:users';
/** Property changes per second offered in the lag measurement (the target throughput). */
const DELTA_OFFERED_PER_SEC = 50_000;
const PROPS_PER_DELTA = 2;

const received = (message: ReceivedUsersMessage['message']): ReceivedUsersMessage => ({ message, receivedAt: performance.now(), icServer: 'bench' });
const fullReplace = (users: User[]) => received({ __type: USERS_MESSAGE, isDelta: false, subscriptionId: 'bench', added: users });
const statusChange = (id: string, n: number) =>
  received({
    __type: USERS_MESSAGE,
    isDelta: true,
    subscriptionId: 'bench',
    changed: [{ configurationId: { id }, statusText: `Status ${n}`, lastModifiedDate: `2024${String(n).padStart(9, '0').slice(-4)}T000000Z` }],
  });

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 1));
}

export default async function mirrorBench({ quick, log }: { quick: boolean; log: (line: string) => void }): Promise<Figures> {
  const count = quick ? 5_000 : 50_000;
  const deltaSeconds = quick ? 1 : 3;
  const server = await startPrivateRedis();
  const redis = new Redis(server.url);
  const users = generateUsers(count, 1);
  const keys = mirrorKeys(PREFIX);
  const pending = async (m: Metrics) => (await m.pendingMessages.get()).values[0]?.value ?? 0;
  try {
    // Baseline: every user as one HSET of its JSON-encoded properties, all pipelined.
    let t0 = performance.now();
    await Promise.all(users.map((u) => redis.hset(keys.user(u.configurationId.id), ...Object.entries(u).flatMap(([k, v]) => [k, JSON.stringify(v)]))));
    const rawHsetUsersPerSec = count / ((performance.now() - t0) / 1000);
    log(`  raw HSET: ${Math.round(rawHsetUsersPerSec)} users/s`);
    await redis.flushall();

    // The mirror's writer behind the pipeline's writeToMirror stage, fed from a Subject (as its tests do).
    const { mirror, source, metrics } = await startMirror(redis, PREFIX, { maxPendingMessages: 1_000_000, backoff: DEFAULTS.redis.backoff });

    t0 = performance.now();
    source.next(fullReplace(users));
    await until(async () => (await pending(metrics)) === 0);
    const fullReplaceUsersPerSec = count / ((performance.now() - t0) / 1000);
    log(`  full replace: ${Math.round(fullReplaceUsersPerSec)} users/s (seq ${mirror.status().seq})`);

    t0 = performance.now();
    source.next(fullReplace(users));
    await until(async () => (await pending(metrics)) === 0);
    const resyncUsersPerSec = count / ((performance.now() - t0) / 1000);
    log(`  resync: ${Math.round(resyncUsersPerSec)} users/s`);

    // The re-sync as server-sent events deliver it: the text read piece by piece with the writer's known texts (the
    // first such replace records them), timed from the first piece read to the replace applied.
    let text = JSON.stringify(fullReplace(users).message);
    const streamed = () => {
      const reader = new StreamedMessage(DEFAULTS.icws.maxMessageBytes, mirror.writer);
      for (let i = 0; i < text.length; i += 65536) reader.write(text.slice(i, i + 65536));
      const outcome = reader.end();
      if (outcome.kind !== 'message') throw new Error(`the full replace did not parse: ${outcome.kind}`);
      return received(outcome.message as ReceivedUsersMessage['message']);
    };
    source.next(streamed());
    await until(async () => (await pending(metrics)) === 0);
    t0 = performance.now();
    source.next(streamed());
    await until(async () => (await pending(metrics)) === 0);
    const resyncStreamedUsersPerSec = count / ((performance.now() - t0) / 1000);
    // Let the directory's text go: held through the deltas it would only make the garbage collector's work theirs.
    text = '';
    log(`  resync as SSE delivers it (text read included): ${Math.round(resyncStreamedUsersPerSec)} users/s`);

    // Deltas at the offered rate: one entry per message, so seq maps back to the message and its arrival time.
    const arrivals: number[] = [];
    const lags: number[] = [];
    const base = mirror.status().seq;
    const sub = mirror.committed$.subscribe((b) => {
      const now = performance.now();
      for (let s = b.fromSeq; s <= b.toSeq; s++) lags.push(now - arrivals[s - base - 1]!);
    });
    const messagesPerMs = DELTA_OFFERED_PER_SEC / PROPS_PER_DELTA / 1000;
    const total = Math.round(messagesPerMs * deltaSeconds * 1000);
    t0 = performance.now();
    for (let sent = 0; sent < total;) {
      const due = Math.min(total, Math.floor((performance.now() - t0) * messagesPerMs));
      for (; sent < due; sent++) {
        const m = statusChange(users[sent % count]!.configurationId.id, sent);
        arrivals.push(m.receivedAt);
        source.next(m);
      }
      // A timer, not setImmediate: a busy pacing loop would take the CPU the mirror needs (same thread).
      await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => lags.length >= total);
    const deltaChangesPerSec = (total * PROPS_PER_DELTA) / ((performance.now() - t0) / 1000);
    lags.sort((a, b) => a - b);
    const deltaLagP50Ms = percentile(lags, 50);
    const deltaLagP99Ms = percentile(lags, 99);
    log(
      `  deltas at ${DELTA_OFFERED_PER_SEC}/s offered: ${Math.round(deltaChangesPerSec)} changes/s, lag p50 ${deltaLagP50Ms.toFixed(1)} ms p99 ${deltaLagP99Ms.toFixed(1)} ms`,
    );

    // Saturation: everything queued at once.
    const base2 = mirror.status().seq;
    sub.unsubscribe();
    let committed = 0;
    const sub2 = mirror.committed$.subscribe((b) => (committed = b.toSeq - base2));
    t0 = performance.now();
    for (let i = 0; i < total; i++) source.next(statusChange(users[i % count]!.configurationId.id, total + i));
    await until(() => committed >= total);
    const deltaMaxChangesPerSec = (total * PROPS_PER_DELTA) / ((performance.now() - t0) / 1000);
    sub2.unsubscribe();
    log(`  deltas queued at once: ${Math.round(deltaMaxChangesPerSec)} changes/s`);
    await mirror.drain(5000);

    return {
      users: count,
      rawHsetUsersPerSec: Math.round(rawHsetUsersPerSec),
      fullReplaceUsersPerSec: Math.round(fullReplaceUsersPerSec),
      fullReplaceVsRaw: fullReplaceUsersPerSec / rawHsetUsersPerSec,
      resyncUsersPerSec: Math.round(resyncUsersPerSec),
      resyncVsRaw: resyncUsersPerSec / rawHsetUsersPerSec,
      resyncStreamedUsersPerSec: Math.round(resyncStreamedUsersPerSec),
      resyncStreamedVsRaw: resyncStreamedUsersPerSec / rawHsetUsersPerSec,
      deltaOfferedChangesPerSec: DELTA_OFFERED_PER_SEC,
      deltaChangesPerSec: Math.round(deltaChangesPerSec),
      deltaLagP50Ms,
      deltaLagP99Ms,
      deltaMaxChangesPerSec: Math.round(deltaMaxChangesPerSec),
    };
  } finally {
    redis.disconnect();
    await server.destroy();
  }
}
