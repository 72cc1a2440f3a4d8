/**
 * The long-lived ICWS session (docs/icws.md) as an explicit state machine (SessionState): log in (with
 * switchover), PUT the users subscription, read messages from the chosen transport, and start over when the
 * session dies (401, connectionStateChange down) or the server fails (5xx, network), with backoff. Every new
 * subscription's first message is a full replace, so the mirror converges. items$ hands out what the transport
 * reads, raw, with a SessionHandle: reading the messages is the pipeline's (src/pipeline/session-messages.ts).
 * items$ errors only on a fatal condition: IcwsGoneError (410) or IcwsConfigError (the subscription is wrong).
 */
import type { KnownUserTexts, MirroredIds } from '../mirror/input.js';
import { BehaviorSubject, Observable, Subscription, type Subscriber } from 'rxjs';
import type { Config } from '../config/defaults.js';
import { componentLogger, type Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { Backoff, sleep } from '../util/backoff.js';
import { connectionFromConfig, serverAt, type IcwsConnection, type SessionInfo } from './connection.js';
import { IcwsConfigError, IcwsGoneError } from './errors.js';
import { sessionHandle } from './session-handle.js';
import { StatusSubscription, type StatusSession } from './status-subscription.js';
import { SubscriptionPuts, type PutSession } from './subscription-puts.js';
import { classify, nextLoginDelay, sessionGone, type SessionEnd } from './failures.js';
import type { SessionHandle, SessionItem, SessionState, UsersFeed } from './feed.js';
import type { FullSyncReason } from './messages.js';
import { warnNewerProperties } from './property-versions.js';
import { UsersSubscription } from './subscription.js';
import { connectWithSwitchover } from './switchover.js';
import { chooseTransport } from './transport/choose.js';
import { describe, endsSession, type TransportItem } from './transport/types.js';

/** A login whose password expires within this many days logs a warning (the alert rule fires at 7). */
export const PASSWORD_EXPIRY_WARNING_DAYS = 14;

export interface UsersFeedDeps {
  metrics: Metrics;
  logger: Logger;
  /** The connection to use (default: one built from config.icws). */
  connection?: IcwsConnection;
  /** Bound of stop(): DELETE subscription + DELETE connection (default: min(icws.requestTimeoutMs, shutdown.timeoutMs / 2)). */
  stopTimeoutMs?: number;
  /** Consecutive failed polls / streams after which the session logs in again, maybe on another host (default 5). */
  transportFailuresBeforeRelogin?: number;
  /** Users whose text the mirror holds unchanged (KnownUserTexts, src/mirror/input.ts): a full replace leaves them unparsed. */
  knownUserTexts?: KnownUserTexts;
  /** Presence: follow the statuses of the mirror's ids (src/icws/status-subscription.ts); absent = presence off. */
  presence?: { ids: MirroredIds; debounceMs: number };
}

/** One live session: what its items are handed out with. Its abort also cancels its transport. */
interface LiveSession extends PutSession {
  info: SessionInfo;
  handle: SessionHandle;
}

export class IcwsUsersFeed implements UsersFeed {
  readonly connection: IcwsConnection;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly stateSubject = new BehaviorSubject<SessionState>({ type: 'disconnected' });
  readonly state$: Observable<SessionState> = this.stateSubject.asObservable();
  /** Cold (see UsersFeed.items$): the session loop starts with the subscription and ends with it. */
  readonly items$: Observable<SessionItem> = new Observable<SessionItem>((subscriber) => {
    if (this.output) throw new Error('IcwsUsersFeed.items$ has a subscriber already');
    this.output = subscriber;
    this.start();
    return () => void this.stop();
  });
  private output?: Subscriber<SessionItem>;
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();
  private subscription?: UsersSubscription;
  private loop?: Promise<void>;
  private stopping?: Promise<void>;
  private live?: LiveSession;
  private readonly puts: SubscriptionPuts;
  /** Presence: the status catalogue and the user statuses subscription of each session. */
  private readonly statuses: StatusSubscription | undefined;
  /** The base URL that last accepted a login: tried first next time (it may be the backup after a switchover). */
  private lastGoodUrl?: string;
  private knownAlternates: string[] = [];
  /** A subscription was created once: later ones are re-subscriptions (their full replace says so). */
  private subscribedOnce = false;
  /** Login attempts since the session was last up (SessionState.connecting.attempt). */
  private loginAttempts = 0;
  private readonly warnedVersions = new Set<string>();
  private readonly stopTimeoutMs: number;
  private readonly transportFailuresBeforeRelogin: number;

  constructor(
    readonly config: Config,
    private readonly deps: UsersFeedDeps,
  ) {
    this.log = componentLogger(deps.logger, 'icws');
    this.metrics = deps.metrics;
    const icws = config.icws;
    this.connection = deps.connection ?? connectionFromConfig(icws, { metrics: deps.metrics, logger: this.log });
    this.backoff = new Backoff(icws.backoff);
    this.puts = new SubscriptionPuts(this.connection, icws.backoff, this.log, this.metrics);
    const presence = deps.presence;
    this.statuses = presence
      ? new StatusSubscription(this.connection, { ids: presence.ids, debounceMs: presence.debounceMs, backoff: icws.backoff, logger: this.log })
      : undefined;
    this.stopTimeoutMs = deps.stopTimeoutMs ?? Math.min(icws.requestTimeoutMs, config.shutdown.timeoutMs / 2);
    this.transportFailuresBeforeRelogin = deps.transportFailuresBeforeRelogin ?? 5;
  }

  get state(): SessionState {
    return this.stateSubject.value;
  }

  private start(): void {
    if (this.loop || this.stopping) return;
    try {
      // Checked before anything is sent: a subscription the server would refuse is never PUT.
      this.subscription = new UsersSubscription(this.config.subscription);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.loop = this.run(this.subscription);
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.abort.abort(new Error('stopping'));
    await this.loop?.catch(() => undefined);
    this.live = undefined;
    const signal = AbortSignal.timeout(this.stopTimeoutMs);
    if (this.connection.session) {
      if (this.subscription) {
        await this.subscription
          .delete(this.connection, signal)
          .then((existed) => this.log.info(existed ? 'subscription deleted' : 'subscription was already gone'))
          .catch((err: unknown) => this.log.warn(`could not delete the subscription: ${describe(err)}`));
      }
      await this.connection
        .disconnect(signal)
        .then(() => this.log.info('logged out of ICWS'))
        .catch((err: unknown) => this.log.warn(`could not log out of ICWS: ${describe(err)}`));
    }
    this.metrics.icwsSessionUp.set(0);
    if (this.state.type !== 'failed') this.setState({ type: 'closed' });
    this.output?.complete();
  }

  /** The session loop: one session after another until stop() or a fatal error. */
  private async run(subscription: UsersSubscription): Promise<void> {
    while (!this.abort.signal.aborted) {
      let end: SessionEnd;
      /** The session came up (it resolved with why it ended); a throw means it failed before. */
      let wasUp = false;
      try {
        end = await this.session(subscription, this.subscribedOnce ? 'resubscribe' : 'subscribe');
        wasUp = true;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        if (err instanceof IcwsGoneError || err instanceof IcwsConfigError) return this.fail(err);
        end = classify(err);
      }
      if (this.abort.signal.aborted) return;
      this.live = undefined;
      this.metrics.icwsSessionUp.set(0);
      this.metrics.icwsReconnects.inc({ reason: end.reason });
      const delay = nextLoginDelay(end, wasUp, this.backoff, this.config.icws.backoff);
      if (end.reason === 'auth-failure' || end.operatorMustFix) this.log.error(`${end.detail}; next attempt in ${delay} ms`);
      else if (delay === 0) this.log.warn(`ICWS session ended (${end.description}): ${end.detail}; logging in again now`);
      else this.log.warn(`ICWS session lost (${end.description}): ${end.detail}; logging in again in ${delay} ms`);
      this.setState({ type: 'reconnecting', reason: end.description, retryInMs: delay, lastError: end.detail });
      if (delay > 0) await sleep(delay, this.abort.signal).catch(() => undefined);
    }
  }

  /** One session: login, subscription, messages. Resolves with why it ended; throws on a failure before it was up. */
  private async session(subscription: UsersSubscription, syncReason: FullSyncReason): Promise<SessionEnd> {
    const signal = this.abort.signal;
    const info = await connectWithSwitchover(this.connection, {
      first: [...new Set([this.lastGoodUrl ?? this.config.icws.url, this.config.icws.url])],
      knownAlternates: this.knownAlternates,
      signal,
      logger: this.log,
      onAttempt: (url) => this.setState({ type: 'connecting', host: serverAt(url), attempt: ++this.loginAttempts }),
    });
    this.lastGoodUrl = info.baseUrl;
    if (info.alternateHostList.length) this.knownAlternates = info.alternateHostList;
    this.log.info(`logged in to ICWS ${info.icServer} at ${serverAt(info.baseUrl)}`, {
      features: Object.fromEntries(info.features),
    });
    this.notePasswordExpiry(info);
    // Once per server and version: a reconnect to the same server need not repeat it.
    const version = info.features.get('configuration');
    if (!this.warnedVersions.has(`${info.icServer}:${version}`)) {
      this.warnedVersions.add(`${info.icServer}:${version}`);
      warnNewerProperties(this.log, this.config.subscription.properties, info.icServer, version);
    }
    this.puts.newSession();
    try {
      await this.puts.put(subscription, syncReason, signal);
    } catch (err) {
      // The next attempt logs in afresh: log this session out (best effort, bounded) so it does not linger on the server.
      if (!endsSession(err) && !signal.aborted) {
        await this.connection.disconnect(AbortSignal.any([signal, AbortSignal.timeout(this.config.icws.requestTimeoutMs)])).catch(() => undefined);
      }
      throw err;
    }
    this.subscribedOnce = true;
    this.loginAttempts = 0;
    this.metrics.icwsSessionUp.set(1);
    this.setState({ type: 'up', host: serverAt(info.baseUrl), sessionId: info.sessionId, icServer: info.icServer, subscribed: true });
    return this.receive(info, subscription);
  }

  /** Reads the transport until the session ends; rejects on a fatal error. */
  private receive(info: SessionInfo, subscription: UsersSubscription): Promise<SessionEnd> {
    return new Promise<SessionEnd>((resolve, reject) => {
      // A Subscription to add to: close() may run while the transport is still being subscribed.
      const sub = new Subscription();
      const abort = new AbortController();
      const close = () => {
        abort.abort();
        sub.unsubscribe();
        this.abort.signal.removeEventListener('abort', onStop);
        this.statuses?.sessionEnded(statusSession);
        if (this.live === live) this.live = undefined;
      };
      const live: LiveSession = {
        info,
        subscription,
        handle: sessionHandle(() => live, {
          isLive: () => this.live === live,
          puts: this.puts,
          log: this.log,
          // The session works end to end: the next failure starts from a short wait.
          fullReplaceArrived: () => this.backoff.reset(),
          resyncStatuses: () => this.statuses?.resync(),
        }),
        abort,
        end: (end) => {
          close();
          if (sessionGone(end)) this.connection.forget();
          resolve(end);
        },
        fail: (err) => {
          close();
          reject(err);
        },
      };
      const onStop = () => live.end({ reason: 'network', description: 'stopping', detail: 'stop() was called' });
      this.abort.signal.addEventListener('abort', onStop, { once: true });
      this.live = live;
      const statusSession: StatusSession = {
        abort,
        end: (end) => live.end(end),
        emit: (raw) => {
          if (this.live === live) this.output?.next({ item: { kind: 'message', raw }, session: live.handle });
        },
      };
      this.statuses?.sessionUp(statusSession);
      sub.add(
        this.transport(info).subscribe({
          next: (item) => {
            if (this.live === live) this.output?.next({ item, session: live.handle });
          },
          error: (err: unknown) => (err instanceof IcwsGoneError || err instanceof IcwsConfigError ? live.fail(err) : live.end(classify(err))),
          complete: () => live.end({ reason: 'network', description: 'transport ended', detail: 'the message transport completed' }),
        }),
      );
    });
  }

  private transport(info: SessionInfo): Observable<TransportItem> {
    const up: SessionState = { type: 'up', host: serverAt(info.baseUrl), sessionId: info.sessionId, icServer: info.icServer, subscribed: true };
    return chooseTransport(this.config.icws, info, {
      connection: this.connection,
      logger: this.log,
      failuresBeforeRelogin: this.transportFailuresBeforeRelogin,
      knownUserTexts: this.deps.knownUserTexts,
      hooks: {
        retrying: (delayMs, why) => {
          this.log.warn(`receiving messages failed (${why}); retrying in ${delayMs} ms`);
          this.metrics.icwsSessionUp.set(0);
          this.setState({ type: 'reconnecting', reason: 'messages unavailable', retryInMs: delayMs, lastError: why });
        },
        healthy: () => {
          this.log.info('receiving messages again');
          this.metrics.icwsSessionUp.set(1);
          this.setState(up);
        },
      },
    });
  }

  /**
   * daysUntilPasswordExpiration of the login (docs/icws.md "Real sites"): the gauge (NaN when the server does not
   * say), and a warning at each login from PASSWORD_EXPIRY_WARNING_DAYS on — the day it expires, every login is refused.
   */
  private notePasswordExpiry(info: SessionInfo): void {
    const days = info.passwordExpiryDays;
    this.metrics.icwsPasswordExpiryDays.set(days ?? NaN);
    if (days === undefined || days > PASSWORD_EXPIRY_WARNING_DAYS) return;
    this.log.warn(
      `the password of ICWS user ${info.userID} expires ${days <= 0 ? 'today' : `in ${days} day${days === 1 ? '' : 's'}`} ` +
        `(daysUntilPasswordExpiration): change it on the IC server and in icws.password / icws.passwordFile before then, or every login will be refused`,
      { daysUntilPasswordExpiration: days },
    );
  }

  private fail(err: unknown): void {
    const reason = describe(err);
    this.log.error(`ICWS stopped: ${reason}`);
    this.metrics.icwsSessionUp.set(0);
    this.setState({ type: 'failed', reason, fatal: true });
    this.output?.error(err);
    // Polite logout; the process is about to exit with 78.
    if (this.connection.session) this.connection.disconnect(AbortSignal.timeout(this.stopTimeoutMs)).catch(() => undefined);
  }

  private setState(state: SessionState): void {
    if (this.state.type === 'closed' || this.state.type === 'failed') return;
    this.stateSubject.next(state);
  }
}
