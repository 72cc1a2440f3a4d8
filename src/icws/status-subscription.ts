/**
 * Presence within one feed (docs/presence.md, docs/icws.md "User statuses"): per session, the status catalogue (GET
 * status/status-messages, handed on as a full statusMessagesMessage, then the subscription to its changes) and the
 * user statuses subscription, whose list is kept equal to the mirror's ids. A PUT of that subscription replaces the
 * list, so every PUT carries the whole list (never only the new ids: a client that PUTs only those stops following
 * everyone else); PUTs follow the mirror's changes debounced, one at a time, retried with backoff until they work or
 * the session ends. Each brings an isDelta:false userStatusMessage, which converges the mirror's statuses.
 */
import type { Logger } from '../log/logger.js';
import type { MirroredIds } from '../mirror/input.js';
import { Backoff, sleep, type BackoffOptions } from '../util/backoff.js';
import type { IcwsConnection } from './connection.js';
import { IcwsError, IcwsGoneError } from './errors.js';
import { classify, type SessionEnd } from './failures.js';
import { STATUS_MESSAGES_MESSAGE, STATUS_MESSAGES_SUBSCRIPTION, USER_STATUSES_SUBSCRIPTION, type StatusMessage } from './user-statuses.js';
import { describe, endsSession } from './transport/types.js';

export const PUT_USER_STATUSES = 'PUT user-statuses subscription';
export const DELETE_USER_STATUSES = 'DELETE user-statuses subscription';
export const GET_STATUS_MESSAGES = 'GET status-messages';
export const PUT_STATUS_MESSAGES = 'PUT status-messages subscription';

/** PUTs answered 404 in a row (each naming one more id the server does not know) before backing off. */
const MAX_UNKNOWN_IDS_IN_A_ROW = 10;

export interface StatusSubscriptionOptions {
  /** The mirror's ids (the writer): the list the subscription is kept equal to. */
  ids: MirroredIds;
  /** presence.subscribeDebounceMs. */
  debounceMs: number;
  /** icws.backoff: retries of failed PUTs. */
  backoff: BackoffOptions;
  logger: Logger;
}

/** The part of a live session presence needs. */
export interface StatusSession {
  abort: AbortController;
  end(end: SessionEnd): void;
  /** Hands a message on as if the server had sent it (the catalogue, which arrives as an answer, not a message). */
  emit(raw: unknown): void;
}

export class StatusSubscription {
  private session: StatusSession | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Serializes the PUTs of one session. */
  private chain: Promise<void> = Promise.resolve();
  /** A PUT is wanted after the one under way (the ids changed meanwhile). */
  private queued = false;
  private running = false;
  private resyncing = false;
  /** Ids the server answered 404 for in this session: left out while the mirror still holds them. */
  private readonly unknownIds = new Set<string>();
  /** Whether this session has a user statuses subscription (a PUT worked and no DELETE followed). */
  private subscribed = false;
  /** Spaces out resyncs within a session: a full replace that is itself malformed would otherwise be asked again at once. */
  private readonly resyncBackoff: Backoff;

  constructor(
    private readonly connection: IcwsConnection,
    private readonly options: StatusSubscriptionOptions,
  ) {
    options.ids.onIdsChanged(() => this.idsChanged());
    this.resyncBackoff = new Backoff(options.backoff);
  }

  /**
   * A new session is up: load the catalogue and follow its changes. The user statuses subscription follows with the
   * mirror's next change of ids (the users' full replace every new session brings).
   */
  sessionUp(session: StatusSession): void {
    this.stopTimer();
    this.session = session;
    this.subscribed = false;
    this.queued = false;
    this.unknownIds.clear();
    this.resyncBackoff.reset();
    this.serially(session, () => this.loadCatalogue(session));
  }

  /** The session ended: nothing more is sent for it. */
  sessionEnded(session: StatusSession): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.stopTimer();
  }

  /** Something that may have carried statuses was lost: the catalogue and every status afresh, now. */
  resync(): void {
    const session = this.session;
    if (!session || this.resyncing) return;
    this.resyncing = true;
    const delayMs = this.resyncBackoff.attempts === 0 ? 0 : this.resyncBackoff.next();
    if (delayMs === 0) this.resyncBackoff.next();
    this.options.logger.log(
      delayMs ? 'warn' : 'info',
      `asking the statuses afresh${delayMs ? ` in ${delayMs} ms` : ''}: GET the status catalogue, PUT the user statuses subscription again`,
    );
    this.serially(session, async () => {
      this.resyncing = false;
      if (delayMs) await sleep(delayMs, session.abort.signal).catch(() => undefined);
      await this.loadCatalogue(session);
      await this.putIds(session);
    });
  }

  /** The mirror's ids changed: PUT the whole list again, debounced. */
  private idsChanged(): void {
    if (this.session) this.putSoon(this.options.debounceMs);
  }

  private putSoon(delayMs: number): void {
    if (this.running) {
      this.queued = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const session = this.session;
      if (session) this.serially(session, () => this.putIds(session));
    }, delayMs);
    this.timer.unref?.();
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs `step` after the steps before it, retried with backoff until it works or the session ends. */
  private serially(session: StatusSession, step: () => Promise<void>): void {
    const signal = session.abort.signal;
    this.chain = this.chain.then(async () => {
      const backoff = new Backoff(this.options.backoff);
      this.running = true;
      try {
        while (!signal.aborted && this.session === session) {
          try {
            await step();
            return;
          } catch (err) {
            if (signal.aborted) return;
            if (err instanceof IcwsGoneError || endsSession(err)) return session.end(classify(err));
            const delay = backoff.next();
            this.options.logger.warn(`presence: ${describe(err)}; retrying in ${delay} ms`);
            await sleep(delay, signal).catch(() => undefined);
          }
        }
      } finally {
        this.running = false;
        if (this.queued && this.session === session) {
          this.queued = false;
          this.putSoon(this.options.debounceMs);
        }
      }
    });
  }

  private async loadCatalogue(session: StatusSession): Promise<void> {
    const signal = session.abort.signal;
    const res = await this.connection.request<{ statusMessageList?: StatusMessage[] }>('GET', '/status/status-messages', {
      route: GET_STATUS_MESSAGES,
      signal,
    });
    const list = res.body?.statusMessageList;
    if (!Array.isArray(list)) throw new Error(`GET status/status-messages answered without a statusMessageList list (${res.text.slice(0, 80)})`);
    // Handed on as the full statusMessagesMessage it is: checked and applied in order with the other messages.
    session.emit({ __type: STATUS_MESSAGES_MESSAGE, isDelta: false, statusMessagesAdded: list });
    await this.connection.request('PUT', `/${STATUS_MESSAGES_SUBSCRIPTION}`, { route: PUT_STATUS_MESSAGES, signal });
  }

  /** PUT the whole list of the mirror's ids (less those the server does not know), or DELETE when there are none. */
  private async putIds(session: StatusSession): Promise<void> {
    const signal = session.abort.signal;
    const { logger } = this.options;
    for (let attempt = 1; ; attempt++) {
      const mirrored = this.options.ids.ids();
      const held = new Set(mirrored);
      for (const id of this.unknownIds) if (!held.has(id)) this.unknownIds.delete(id);
      const userIds = this.unknownIds.size ? mirrored.filter((id) => !this.unknownIds.has(id)) : mirrored;
      if (!userIds.length) {
        // ICWS wants at least one id: with none, no subscription.
        if (this.subscribed)
          await this.connection.request('DELETE', `/${USER_STATUSES_SUBSCRIPTION}`, { route: DELETE_USER_STATUSES, allowStatus: [404], signal });
        this.subscribed = false;
        return;
      }
      try {
        await this.connection.request('PUT', `/${USER_STATUSES_SUBSCRIPTION}`, { route: PUT_USER_STATUSES, json: { userIds }, signal });
        this.subscribed = true;
        logger.info(
          `following the statuses of ${userIds.length} users${this.unknownIds.size ? ` (${this.unknownIds.size} the server does not know left out)` : ''}`,
        );
        return;
      } catch (err) {
        const unknown = err instanceof IcwsError && err.status === 404 ? unknownIdOf(err.serverMessage, userIds) : undefined;
        if (unknown === undefined || attempt >= MAX_UNKNOWN_IDS_IN_A_ROW) throw err;
        // A user removed in ICWS before the mirror heard of it: its removal follows; the rest must not wait for it.
        logger.warn(`the server does not know user ${unknown} (PUT user statuses answered 404); following the others without it`);
        this.unknownIds.add(unknown);
      }
    }
  }
}

/** The id a 404's message names (`The user "jdoe" does not exist.`), when it is one of `ids`. */
function unknownIdOf(message: string, ids: readonly string[]): string | undefined {
  for (const match of message.matchAll(/"([^"]+)"/g)) if (ids.includes(match[1]!)) return match[1];
  return undefined;
}
