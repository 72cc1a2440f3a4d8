/**
 * ICWS user statuses, as the wire carries them (docs/icws.md "User statuses"; the vendor's ICWS help pages for
 * `messaging/subscriptions/status/user-statuses` and `status/status-messages`): the subscription, its message, the
 * status catalogue and its change message. Shapes only; who reads them decides what they mean.
 */

/** `PUT /icws/{sessionId}/messaging/subscriptions/status/user-statuses` `{userIds}`: one per session, the whole list each time. */
export const USER_STATUSES_SUBSCRIPTION = 'messaging/subscriptions/status/user-statuses';
/** `PUT /icws/{sessionId}/messaging/subscriptions/status/status-messages` (no body): changes to the catalogue. */
export const STATUS_MESSAGES_SUBSCRIPTION = 'messaging/subscriptions/status/status-messages';

export const USER_STATUS_MESSAGE = 'urn:inin.com:status:userStatusMessage';
export const STATUS_MESSAGES_MESSAGE = 'urn:inin.com:status:statusMessagesMessage';

/** When a status ends (a status whose catalogue entry `canHaveDate` / `canHaveTime`). */
export interface StatusUntil {
  untilDateTime?: string;
  hasDate: boolean;
  hasTime: boolean;
}

/**
 * One user's status. `userId` and `statusId` always; the others only when set (unset optionals are left out). In a
 * delta, a property left out is unchanged. Dates are compact ISO 8601 (`20201029T082018Z`), to the second.
 */
export interface UserStatus {
  userId: string;
  /** An id, not a text: compared case-insensitively; its text and group come from the catalogue. */
  statusId: string;
  notes?: string;
  forwardNumber?: string;
  until?: StatusUntil;
  onPhone?: boolean;
  onPhoneChanged?: string;
  statusChanged?: string;
  stations?: string[];
  icServers?: string[];
  loggedIn?: boolean;
}

/** The properties of a status besides its user, in the order real servers give them. */
export const USER_STATUS_PROPERTIES = [
  'statusId',
  'notes',
  'forwardNumber',
  'until',
  'onPhone',
  'onPhoneChanged',
  'statusChanged',
  'stations',
  'icServers',
  'loggedIn',
] as const satisfies readonly (keyof UserStatus)[];

export interface UserStatusMessage {
  __type: typeof USER_STATUS_MESSAGE;
  /** false after each PUT of the subscription: the statuses of every listed user. */
  isDelta: boolean;
  userStatusList: UserStatus[];
}

/** A status group, the catalogue's `groupTag`. */
export type StatusGroup = 'AVAILABLE' | 'BREAK' | 'FOLLOWUP' | 'TRAINING' | 'UNAVAILABLE';

/** One entry of the status catalogue (`GET status/status-messages` → `{statusMessageList}`). */
export interface StatusMessage {
  statusId: string;
  /** The status's text, in the session's language. */
  messageText: string;
  /** Relative to the ICWS root. */
  iconUri: string;
  /** A StatusGroup on default servers; a site may define its own. */
  groupTag: string;
  canHaveDate: boolean;
  canHaveTime: boolean;
  isDoNotDisturbStatus: boolean;
  isSelectableStatus: boolean;
  isPersistentStatus: boolean;
  isForwardStatus: boolean;
  isAfterCallWorkStatus: boolean;
  isAcdStatus: boolean;
  isAllowFollowUpStatus: boolean;
  systemId: string;
}

export interface StatusMessagesMessage {
  __type: typeof STATUS_MESSAGES_MESSAGE;
  isDelta: boolean;
  statusMessagesAdded?: StatusMessage[];
  statusMessagesChanged?: StatusMessage[];
  /** Status ids. */
  statusMessagesRemoved?: string[];
}

/** Status ids are compared without regard to case (a real capture carries `Do Not disturb`). */
export const statusIdKey = (statusId: string): string => statusId.toLowerCase();
