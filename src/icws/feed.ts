/**
 * The contract between the ICWS stage and the pipeline: a cold stream of the raw items the server sends, across
 * sessions (each new session re-creates the subscription, whose first message is a full replace), each with a
 * handle on the session it came from; plus the session's state for /readyz and shutdown.
 */
import type { Observable } from 'rxjs';
import type { FullSyncReason } from './messages.js';
import type { TransportItem } from './transport/types.js';

/** Explicit state of the long-lived ICWS session. */
export type SessionState =
  | { type: 'disconnected' }
  | { type: 'connecting'; host: string; attempt: number }
  | { type: 'up'; host: string; sessionId: string; icServer: string; subscribed: boolean }
  | { type: 'reconnecting'; reason: string; retryInMs: number; lastError?: string }
  | { type: 'failed'; reason: string; fatal: true }
  | { type: 'closed' };

/** What the pipeline may tell the session an item came from (a no-op once that session has ended). */
export interface SessionHandle {
  readonly icServer: string;
  /** The id of this session's users subscription (usersMessages for other ids are not ours). */
  readonly subscriptionId: string;
  /** False once the session ended: its remaining items are dropped. */
  readonly live: boolean;
  /** Ask for a fresh full replace (re-PUT the subscription): something that may have carried changes was lost. */
  resync(reason: FullSyncReason): void;
  /** Ask for the statuses afresh (presence: re-PUT the user statuses subscription and GET the catalogue again). */
  resyncStatuses(): void;
  /** The server said the connection is down (`reason`: the message's, e.g. SessionTimeout): log in again. */
  connectionDown(detail: string, reason?: string): void;
  /** The server reports the subscription faulted: subscribe again. */
  subscriptionFaulted(detail: string): void;
  /** A full replace arrived: returns why it was asked (oldest first) and resets the session's backoffs. */
  fullReplaceArrived(): FullSyncReason;
}

export interface SessionItem {
  item: TransportItem;
  session: SessionHandle;
}

export interface UsersFeed {
  /**
   * Cold: subscribing logs in, subscribes and starts receiving; nothing is sent or lost before. Items come in
   * arrival order, across sessions. Completes after stop(); errors only on a fatal condition (IcwsGoneError,
   * IcwsConfigError). Unsubscribing stops the feed as stop() does. One subscriber at a time.
   */
  readonly items$: Observable<SessionItem>;
  /** Current and later session states. */
  readonly state$: Observable<SessionState>;
  readonly state: SessionState;
  /** DELETE the subscription (404 = already gone) and the connection; completes items$. */
  stop(): Promise<void>;
}
