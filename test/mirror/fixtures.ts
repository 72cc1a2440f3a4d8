/**
 * Test fixtures for the mirror: a MirrorWriter on real Redis fed through the pipeline's writeToMirror from a
 * Subject, messages, and Redis read back the way a reader reads it.
 */
import { Subject, firstValueFrom, filter, share, type Observable, type Subscription } from 'rxjs';
import { Redis } from 'ioredis';
import { MirrorWriter } from '../../src/mirror/writer.js';
import type { CommittedBatch, MirrorOptions, MirrorStatus } from '../../src/mirror/types.js';
import { writeToMirror, type PipelineOptions } from '../../src/pipeline/pipeline.js';
import type { SessionHandle } from '../../src/icws/feed.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { decodeChangeEntry, type ChangeEntry } from '../../src/mirror/change.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { silentLogger } from '../../src/log/logger.js';
import { USERS_MESSAGE, type ReceivedUsersMessage, type User } from '../../src/icws/messages.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { StreamedMessage } from '../../src/icws/message-stream.js';
import type { KnownUserTexts, ReceivedUsers } from '../../src/mirror/input.js';
import { receivedUsersOf } from '../../src/icws/mirror-input.js';
import { parseUserHash, readUserHashes } from '../helpers/mirror.js';

export function user(id: string, props: Record<string, unknown> = {}): User {
  return { configurationId: { id, displayName: id.toUpperCase(), uri: `/configuration/users/${id}` }, ...props };
}

export function replace(users: User[], extra: Partial<ReceivedUsersMessage> = {}): ReceivedUsersMessage {
  return {
    message: { __type: USERS_MESSAGE, isDelta: false, subscriptionId: 'icwatch', added: users },
    receivedAt: performance.now(),
    icServer: 'ic1',
    ...extra,
  };
}

/**
 * A full replace as the SSE path delivers it: its text read by StreamedMessage (in pieces), so each user carries the
 * digest of the text it arrived as (src/icws/read-users.ts); with `knownUserTexts` (the writer), users whose text
 * the mirror holds unchanged arrive unparsed, as in the daemon.
 */
export function streamedReplace(users: User[], knownUserTexts?: KnownUserTexts): ReceivedUsersMessage {
  const text = JSON.stringify({ __type: USERS_MESSAGE, isDelta: false, subscriptionId: 'icwatch', added: users });
  const streamed = new StreamedMessage(DEFAULTS.icws.maxMessageBytes, knownUserTexts);
  for (let i = 0; i < text.length; i += 1000) streamed.write(text.slice(i, i + 1000));
  const outcome = streamed.end();
  if (outcome.kind !== 'message') throw new Error(`the streamed full replace did not parse: ${JSON.stringify(outcome)}`);
  return { message: outcome.message as ReceivedUsersMessage['message'], receivedAt: performance.now(), icServer: 'ic1' };
}

export function delta(d: { added?: User[]; changed?: unknown[]; removed?: unknown[] }, extra: Partial<ReceivedUsersMessage> = {}): ReceivedUsersMessage {
  return {
    message: { __type: USERS_MESSAGE, isDelta: true, subscriptionId: 'icwatch', ...(d as { added?: User[]; changed?: User[]; removed?: string[] }) },
    receivedAt: performance.now(),
    icServer: 'ic1',
    ...extra,
  };
}

/** Options of the mirror under test and of the pipeline stage that feeds it. */
export interface HarnessOptions extends MirrorOptions {
  maxPendingMessages: number;
  /** What the session is asked when the pipeline overflows (a resync). */
  onOverflow?: () => void;
  /** What the session is asked when Redis lost the mirror (a resync for reason redis): push the full replace. */
  onMirrorLost?: () => void;
  /** What the session is asked for any other resync (incomplete-write, lost-writes, verify), with its reason. */
  onResync?: (reason: string) => void;
  /** subscription.verifyIntervalMs of the pipeline stage (0 = never). */
  verifyIntervalMs?: number;
  /** The operator's requests about held removals (src/mirror/held-requests.ts). */
  heldRequests$?: PipelineOptions['heldRequests$'];
}

/** A running writeToMirror stage: its commits, its end, and a drain like the daemon's. */
export interface RunningMirror {
  writer: MirrorWriter;
  committed$: Observable<CommittedBatch>;
  /** Settles when the stage ends: resolves on completion, rejects with the source's error. */
  done: Promise<void>;
  status(): MirrorStatus;
  /** Complete the source, wait (within timeoutMs) for what is pending to be written, then let go. */
  drain(timeoutMs: number): Promise<void>;
}

export interface Harness {
  mirror: RunningMirror;
  source: Subject<ReceivedUsersMessage>;
  metrics: Metrics;
  /** Push messages and wait until the mirror has applied all of them (its queue is empty and seq stable). */
  apply(...messages: ReceivedUsersMessage[]): Promise<void>;
}

export function mirrorOptions(redis: Redis, prefix: string, over: Partial<HarnessOptions> = {}): HarnessOptions {
  const r = DEFAULTS.redis;
  return {
    redis,
    keyPrefix: prefix,
    indexedProperties: ['extension'],
    changeStreamLength: r.changeStreamLength,
    replaceBatchSize: r.replaceBatchSize,
    maxPendingMessages: r.maxPendingMessages,
    maxBatchMessages: r.maxBatchMessages,
    backoff: { initialMs: 20, maxMs: 200, multiplier: 2, jitter: 0.5 },
    metrics: new Metrics({ defaultMetrics: false }),
    logger: silentLogger(),
    ...over,
  };
}

/** Start a mirror on `redis` under `prefix` and feed it through a Subject. */
export async function startMirror(redis: Redis, prefix: string, over: Partial<HarnessOptions> = {}): Promise<Harness> {
  const options = mirrorOptions(redis, prefix, over);
  const writer = new MirrorWriter(options);
  const source = new Subject<ReceivedUsers & { session?: SessionHandle }>();
  // A session as the pipeline sees it; the full replace it sends when Redis lost the mirror comes later, as from ICWS.
  const resync = (reason: string) =>
    reason === 'redis'
      ? setImmediate(() => options.onMirrorLost?.())
      : reason === 'overflow' || !options.onResync
        ? options.onOverflow?.()
        : setImmediate(() => options.onResync?.(reason));
  const session = { resync } as unknown as SessionHandle;
  const committed$ = source.pipe(writeToMirror(writer, options), share());
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => {});
  const sub: Subscription = committed$.subscribe({ error: (e: unknown) => settle.reject(e), complete: () => settle.resolve() });
  // The stage loads the mirror before it reads the source (a hot Subject here, unlike the feed): wait for that.
  while (['loading', 'redis-down'].includes(writer.status().phase.type)) await new Promise((r) => setTimeout(r, 2));
  const mirror: RunningMirror = {
    writer,
    committed$,
    done,
    status: () => writer.status(),
    drain: async (timeoutMs) => {
      source.complete();
      await Promise.race([done.catch(() => {}), new Promise((r) => setTimeout(r, timeoutMs))]);
      sub.unsubscribe();
    },
  };
  // The ICWS message becomes the mirror's input as in the pipeline (usersPipeline), with the mirror's logger.
  const push = (m: ReceivedUsersMessage) => source.next(receivedUsersOf(m, options.logger, session));
  const apply = async (...messages: ReceivedUsersMessage[]) => {
    for (const m of messages) push(m);
    await waitIdle(options.metrics);
  };
  return {
    mirror,
    source: { next: push, error: (e: unknown) => source.error(e), complete: () => source.complete() } as unknown as Subject<ReceivedUsersMessage>,
    metrics: options.metrics,
    apply,
  };
}

/** Until icwatch_pending_messages is 0 (every message received has been applied). */
export async function waitIdle(metrics: Metrics, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = (await metrics.pendingMessages.get()).values[0]?.value ?? 0;
    if (v === 0) return;
    if (Date.now() > deadline) throw new Error(`mirror still has ${v} pending messages after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function metricValue(metrics: Metrics, name: keyof Metrics, labels: Record<string, string> = {}): Promise<number> {
  type Readable = { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string>; metricName?: string }> }> };
  const metric = (metrics as unknown as Record<string, Readable>)[name]!;
  const values = (await metric.get()).values.filter((v) => !v.metricName || !/_(bucket|sum)$/.test(v.metricName));
  const match = values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return match?.value ?? 0;
}

export { firstValueFrom, filter };

/** What a reader sees: every user hash parsed, the ids set, the indexes, meta and the stream. */
export interface MirrorView {
  users: Record<string, Record<string, unknown>>;
  raw: Record<string, Record<string, string>>;
  ids: string[];
  index: Record<string, string>;
  meta: Record<string, string>;
  changes: ChangeEntry[];
  changeIds: string[];
}

export async function readMirrorView(redis: Redis, prefix: string, indexed = 'extension'): Promise<MirrorView> {
  const k = mirrorKeys(prefix);
  const hashes = await readUserHashes(redis, k);
  const ids = [...hashes.keys()];
  const raw: MirrorView['raw'] = Object.fromEntries(hashes);
  const users: MirrorView['users'] = Object.fromEntries([...hashes].map(([id, hash]) => [id, parseUserHash(hash)]));
  const stream = await redis.xrange(k.changes, '-', '+');
  return {
    users,
    raw,
    ids,
    index: await redis.hgetall(k.index(indexed)),
    meta: await redis.hgetall(k.meta),
    changes: stream.map(([, fields]) => decodeChangeEntry(fields)),
    changeIds: stream.map(([id]) => id),
  };
}

/** Replays change entries onto an empty map of users (what a stream follower rebuilds). */
export function replay(changes: ChangeEntry[]): Record<string, Record<string, unknown>> {
  const users: Record<string, Record<string, unknown>> = {};
  for (const c of changes) {
    if (c.op === 'remove') delete users[c.id];
    else {
      const u = (users[c.id] ??= {});
      for (const [k, v] of Object.entries(c.data)) {
        if (v === null) delete u[k];
        else u[k] = v;
      }
    }
  }
  return users;
}

export function expectGapFree(changes: ChangeEntry[], from = 1): void {
  changes.forEach((c, i) => {
    if (c.seq !== from + i) throw new Error(`seq gap: entry ${i} has seq ${c.seq}, expected ${from + i}`);
  });
}
