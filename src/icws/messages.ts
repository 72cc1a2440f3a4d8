import type { ReadUser } from './read-users.js';
import type { ArrivingUsers } from './arriving-users.js';
import type { StatusMessagesMessage, UserStatusMessage } from './user-statuses.js';

/**
 * ICWS message shapes (docs/icws.md "Messages"), as discriminated unions on `__type`. The simulator produces these,
 * the client parses them (parse.ts), the mirror consumes UsersMessage.
 */

export const USERS_MESSAGE = 'urn:inin.com:configuration.people:usersMessage';
export const CONNECTION_STATE_CHANGE_MESSAGE = 'urn:inin.com:connection:connectionStateChangeMessage';
export const SUBSCRIPTION_STATE_MESSAGE = 'urn:inin.com:messaging:subscriptionStateMessage';

export interface ConfigurationId {
  id: string;
  displayName?: string | null;
  uri?: string;
}

/**
 * A user as ICWS sends it: `configurationId` plus the subscribed properties. In a delta, a property present with
 * `null` has been cleared; a property absent is unchanged.
 */
export interface User {
  configurationId: ConfigurationId;
  [property: string]: unknown;
}

export interface UsersMessage {
  __type: typeof USERS_MESSAGE;
  /** false = clear this subscription's cache and replace it with the message's users. */
  isDelta: boolean;
  subscriptionId?: string;
  added?: User[];
  changed?: User[];
  removed?: string[];
  /**
   * A full replace read from a server-sent event carries its users here instead of in `added`: each read once, as it
   * arrived, into what the mirror takes (read-users.ts, message-stream.ts).
   */
  readUsers?: ReadUser[];
  /**
   * A full replace handed on as soon as its `added` list began (message-stream.ts): its users arrive here while the
   * rest of the event is read, and the message's end says whether it was complete (arriving-users.ts).
   */
  arrivingUsers?: ArrivingUsers;
}

/** connectionState values of GET /connection and connectionStateChangeMessage. */
export const ConnectionState = { None: 0, Up: 1, Down: 2 } as const;

export interface ConnectionStateChangeMessage {
  __type: typeof CONNECTION_STATE_CHANGE_MESSAGE;
  previousConnectionState: number;
  newConnectionState: number;
  reason?: string;
  shouldReconnect?: boolean;
}

export interface SubscriptionStateMessage {
  __type: typeof SUBSCRIPTION_STATE_MESSAGE;
  /** 0 none, 1 normal, 2 suspended, 3 faulted */
  state: number;
  error?: { errorId?: string; message?: string };
}

export type IcwsMessage = UsersMessage | UserStatusMessage | StatusMessagesMessage | ConnectionStateChangeMessage | SubscriptionStateMessage;

/** The messages whose content the mirror takes: the users, and with presence their statuses and the status catalogue. */
export type MirroredMessage = UsersMessage | UserStatusMessage | StatusMessagesMessage;

/** A usersMessage as the mirror receives it: with when and from where it arrived. */
export interface ReceivedUsersMessage<M extends MirroredMessage = UsersMessage> {
  message: M;
  /** performance.now() at arrival: the start of icwatch_lag_seconds. */
  receivedAt: number;
  /** The IC server that sent it (the session's icServer). */
  icServer: string;
  /** Why a full replace came (first subscribe, re-subscribe after a new session, an asked resync); undefined for deltas. */
  syncReason?: FullSyncReason;
}

/** … 'unreadable': a message that may have carried changes could not be read (malformed, too large, lost in transit). */
export type FullSyncReason =
  | 'subscribe'
  | 'resubscribe'
  | 'overflow'
  | 'server'
  | 'redis'
  | 'unreadable'
  /** README "Integrity": a write that failed halfway, writes Redis lost, a periodic verification. */
  | 'incomplete-write'
  | 'lost-writes'
  | 'verify';
