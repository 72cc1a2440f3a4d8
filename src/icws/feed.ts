/**
 * The contract between the ICWS stage and the mirror: a stream of usersMessages that survives session expiry,
 * switchover and network faults (each new session re-creates the subscription, whose first message is a full
 * replace), plus the session's state for /readyz and shutdown.
 */
import type { Observable } from 'rxjs';
import type { FullSyncReason, ReceivedUsersMessage } from './messages.js';

/** Explicit state of the long-lived ICWS session. */
export type SessionState =
  | { type: 'disconnected' }
  | { type: 'connecting'; host: string; attempt: number }
  | { type: 'up'; host: string; sessionId: string; icServer: string; subscribed: boolean }
  | { type: 'reconnecting'; reason: string; retryInMs: number; lastError?: string }
  | { type: 'failed'; reason: string; fatal: true }
  | { type: 'closed' };

export interface UsersFeed {
  /** usersMessages in arrival order, across sessions. Errors only on a fatal condition (IcwsGoneError, IcwsConfigError). */
  readonly messages$: Observable<ReceivedUsersMessage>;
  /** Current and later session states. */
  readonly state$: Observable<SessionState>;
  readonly state: SessionState;
  /** Log in, subscribe, start receiving. */
  start(): void;
  /** Ask for a fresh full replace (re-PUT the subscription); used after a dropped queue or an unreadable message. */
  resync(reason: FullSyncReason): void;
  /** DELETE the subscription (404 = already gone) and the connection; completes messages$. */
  stop(): Promise<void>;
}
