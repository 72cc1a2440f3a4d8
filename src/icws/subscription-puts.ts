/**
 * The PUTs of the users subscription within one feed, and the full replaces they bring. Each PUT notes why it was
 * sent before it is sent (its full replace may arrive before its answer), so that the replace is counted under that
 * reason (icwatch_full_syncs_total). PUTs within a live session — a resync, a faulted subscription — go one at a
 * time and are retried with backoff until they work or the session ends; resyncs asked while no full replace has
 * come through are spaced out, since a replace that is itself unreadable would otherwise be asked for again at once.
 */
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { Backoff, sleep, type BackoffOptions } from '../util/backoff.js';
import type { IcwsConnection } from './connection.js';
import { IcwsConfigError, IcwsGoneError } from './errors.js';
import { classify, type SessionEnd } from './failures.js';
import type { FullSyncReason } from './messages.js';
import type { UsersSubscription } from './subscription.js';
import { describe, endsSession } from './transport/types.js';

/** The part of a live session a re-PUT needs. */
export interface PutSession {
  subscription: UsersSubscription;
  /** Aborted when the session ends: cancels pending re-PUTs. */
  abort: AbortController;
  end(end: SessionEnd): void;
  fail(err: unknown): void;
}

export class SubscriptionPuts {
  /** Why each full replace still to come was asked, oldest first (one per PUT). */
  private reasons: FullSyncReason[] = [];
  /** Serializes re-PUTs of one session. */
  private chain: Promise<void> = Promise.resolve();
  private resyncQueued = false;
  private readonly resyncBackoff: Backoff;

  constructor(
    private readonly connection: IcwsConnection,
    private readonly backoff: BackoffOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.resyncBackoff = new Backoff(backoff);
  }

  /** A new session: the reasons of the old one's PUTs are void. */
  newSession(): void {
    this.reasons = [];
    this.resyncQueued = false;
  }

  /** PUT the subscription, noting first why the full replace it brings was asked. */
  async put(subscription: UsersSubscription, reason: FullSyncReason, signal: AbortSignal): Promise<void> {
    this.reasons.push(reason);
    try {
      await subscription.put(this.connection, signal);
    } catch (err) {
      const i = this.reasons.lastIndexOf(reason);
      if (i >= 0) this.reasons.splice(i, 1);
      throw err;
    }
  }

  /** A full replace arrived: why it was asked (a replace the server sent unasked counts as 'server'). */
  fullReplaceArrived(): FullSyncReason {
    this.resyncBackoff.reset();
    return this.reasons.shift() ?? 'server';
  }

  /** Ask a fresh full replace within `session` (at most one waiting at a time). */
  resync(session: PutSession, reason: FullSyncReason): void {
    if (this.resyncQueued) return;
    this.resyncQueued = true;
    this.metrics.icwsReconnects.inc({ reason: 'resync' });
    const delayMs = this.resyncBackoff.attempts === 0 ? 0 : this.resyncBackoff.next();
    if (delayMs === 0) this.resyncBackoff.next();
    const level = delayMs === 0 ? 'info' : 'warn';
    this.log.log(
      level,
      `asking a full resync (${reason}): PUT the subscription again${delayMs ? ` in ${delayMs} ms (no full replace came through since the last resync)` : ''}`,
    );
    this.again(session, reason, () => (this.resyncQueued = false), delayMs);
  }

  /** PUT again within `session`, after the re-PUTs before it; retried with backoff until it works or the session ends. */
  again(session: PutSession, reason: FullSyncReason, started?: () => void, delayMs = 0): void {
    const signal = session.abort.signal;
    this.chain = this.chain.then(async () => {
      const backoff = new Backoff(this.backoff);
      if (delayMs) await sleep(delayMs, signal).catch(() => undefined);
      started?.();
      while (!signal.aborted) {
        try {
          await this.put(session.subscription, reason, signal);
          return;
        } catch (err) {
          if (signal.aborted) return;
          if (err instanceof IcwsGoneError || err instanceof IcwsConfigError) return session.fail(err);
          if (endsSession(err)) return session.end(classify(err));
          const delay = backoff.next();
          this.log.warn(`PUT subscription failed (${describe(err)}); retrying in ${delay} ms`);
          await sleep(delay, signal).catch(() => undefined);
        }
      }
    });
  }
}
