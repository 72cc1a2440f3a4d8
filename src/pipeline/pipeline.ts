/**
 * The message path, top to bottom (docs/architecture.md): what the ICWS session reads becomes writes of the Redis
 * mirror, in order, and each commit is handed on (the fan-out wakes its clients, metrics observe lag).
 *
 * Cold: nothing flows until the result is subscribed; subscribing loads the mirror, then logs in to ICWS. So no
 * wiring order can lose a message. Errors are handled where they can be recovered: a bad ICWS message is counted
 * and skipped (parseItems), a failed Redis write is retried with backoff after reloading (retry inside the
 * concat step), and only a fatal ICWS condition (410 Gone, a refused subscription) ends the stream — after what
 * came before it has been written.
 */
import { defer, EMPTY, filter, map, type Observable, type OperatorFunction, retry, share, switchMap, tap, throwError, timer } from 'rxjs';
import type { SessionHandle, UsersFeed } from '../icws/feed.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ReceivedUsers } from '../mirror/input.js';
import type { CommittedBatch } from '../mirror/types.js';
import { MirrorMovedError, RedisUnavailableError } from '../mirror/write-errors.js';
import { WriteBatch, type WriteItem } from '../mirror/write-batch.js';
import type { MirrorWriter } from '../mirror/writer.js';
import { coalesceWhileBusy } from './coalesce.js';
import { OverflowGuard } from './overflow.js';
import { alsoFrom, alsoOnEvent, whileRunningEvery } from './rxutils.js';
import { actOnSessionMessages, keepOurSubscription, parseItems, toMirrorInput } from './session-messages.js';

export interface PipelineOptions {
  /** Messages waiting for Redis at most (redis.maxPendingMessages); past it they are dropped and a resync asked. */
  maxPendingMessages: number;
  /** The Redis client the writer uses: its "ready" (a reconnect) makes the writer look at Redis again. */
  redis: { on(event: string, l: () => void): unknown; off(event: string, l: () => void): unknown };
  metrics: Metrics;
  logger: Logger;
  /**
   * subscription.verifyIntervalMs: how often the session is asked for a full replace that verifies the mirror (the
   * writer counts what it had to change); 0 or absent = never.
   */
  verifyIntervalMs?: number;
  /** The operator's requests about held removals (src/mirror/held-requests.ts), applied in order with the messages. */
  heldRequests$?: Observable<WriteItem>;
}

const RELOAD: WriteItem = { kind: 'reload' };

export function usersPipeline(feed: UsersFeed, writer: MirrorWriter, options: PipelineOptions): Observable<CommittedBatch> {
  return feed.items$.pipe(
    parseItems(options), //              raw item → typed ICWS message (bad ones counted and skipped)
    actOnSessionMessages(options), //    connection / subscription state → the session; usersMessages go on
    keepOurSubscription(options), //     our subscription's usersMessages, tagged with arrival time and sync reason
    toMirrorInput(options), //           → the mirror's input: users checked, malformed ones logged and skipped
    writeToMirror(writer, options), //   in order, coalesced while Redis is busy → commits
    share(), //                          one run for every consumer (fan-out, tests), ended with the last of them
  );
}

/**
 * usersMessages → mirror commits. Loads the mirror first (retried while Redis is away), then writes batch after
 * batch: concatMap semantics, with the messages that arrived during a batch coalesced into the next one (bounded
 * by maxPendingMessages: past it, OverflowGuard). A Redis reconnect reloads memory before the next write.
 */
export function writeToMirror(writer: MirrorWriter, options: PipelineOptions): OperatorFunction<ReceivedUsers & { session?: SessionHandle }, CommittedBatch> {
  const { metrics, logger } = options;
  const overflow = new OverflowGuard(options.maxPendingMessages, logger);
  const pending = pendingGauge(metrics);
  // The session of the latest message: asked for a full replace when Redis lost the mirror.
  let session: SessionHandle | undefined;
  writer.onMirrorLost((reason) => session?.resync(reason));
  const redisRetry = {
    delay: (err: unknown) => {
      if (err instanceof MirrorMovedError) return timer(0);
      if (!(err instanceof RedisUnavailableError)) return throwError(() => err);
      writer.health.markDown(err.cause, err.what);
      return timer(writer.health.nextDelayMs());
    },
  };
  return (messages$) =>
    defer(() => writer.load()).pipe(
      retry(redisRetry),
      switchMap(() =>
        messages$.pipe(
          tap((m) => (session = m.session ?? session)),
          map((m) => overflow.admit(m)),
          filter((w): w is WriteItem => w !== undefined),
          alsoOnEvent(options.redis, 'ready', RELOAD),
          whileRunningEvery(options.verifyIntervalMs ?? 0, () => {
            logger.info('verifying the mirror: asking ICWS for a full replace (subscription.verifyIntervalMs)');
            session?.resync('verify');
          }),
          alsoFrom(options.heldRequests$ ?? EMPTY),
        ),
      ),
      coalesceWhileBusy(
        (items) => {
          const batch = new WriteBatch(items);
          pending.started(batch);
          return writer.write$(batch).pipe(retry(redisRetry), tap({ next: () => pending.report(), finalize: () => pending.finished(batch) }));
        },
        { maxBatch: options.maxPendingMessages, maxWaiting: options.maxPendingMessages, onFull: overflow.onFull, onWaiting: pending.waiting },
      ),
    );
}

/** icwatch_pending_messages: messages received and not yet committed (waiting, or in the batch being written). */
function pendingGauge(metrics: Metrics) {
  let waiting = 0;
  let batch: WriteBatch | undefined;
  const report = () => metrics.pendingMessages.set(waiting + (batch?.remaining ?? 0));
  return {
    report,
    waiting: (n: number) => {
      waiting = n;
      report();
    },
    started: (b: WriteBatch) => {
      batch = b;
      report();
    },
    // Finalize runs after the next batch may have started: only the batch in flight is forgotten.
    finished: (b: WriteBatch) => {
      if (batch === b) batch = undefined;
      report();
    },
  };
}
