/**
 * The status catalogue the simulator serves at GET /icws/{sessionId}/status/status-messages (docs/icws.md "User
 * statuses"): most of a CIC server's default statuses (docs/icws.md "User statuses"), of every status group, with every field real servers give an
 * entry. Which defaults are ACD statuses is not public: here only "Available" and "ACD - Agent Not Answering" are.
 */
import type { StatusGroup, StatusMessage } from '../icws/user-statuses.js';

export type { StatusMessage };

const entry = (statusId: string, messageText: string, groupTag: StatusGroup, flags: Partial<StatusMessage> = {}): StatusMessage => ({
  statusId,
  messageText,
  iconUri: `/icws/status/status-message-icons/${encodeURIComponent(statusId)}`,
  groupTag,
  canHaveDate: false,
  canHaveTime: false,
  isDoNotDisturbStatus: false,
  isSelectableStatus: true,
  isPersistentStatus: false,
  isForwardStatus: false,
  isAfterCallWorkStatus: false,
  isAcdStatus: false,
  isAllowFollowUpStatus: false,
  systemId: statusId,
  ...flags,
});

export const STATUS_MESSAGES: readonly StatusMessage[] = [
  entry('Available', 'Available', 'AVAILABLE', { isAcdStatus: true, isPersistentStatus: true }),
  entry('Available, No ACD', 'Available, No ACD', 'AVAILABLE', { isPersistentStatus: true }),
  entry('At Lunch', 'At Lunch', 'BREAK', { canHaveTime: true }),
  entry('Away from desk', 'Away From Desk', 'BREAK'),
  entry('Follow Up', 'Follow Up', 'FOLLOWUP', { isAfterCallWorkStatus: true }),
  entry('At a Training Session', 'At a Training Session', 'TRAINING', { canHaveDate: true, canHaveTime: true }),
  entry('Do Not Disturb', 'Do Not Disturb', 'UNAVAILABLE', { isDoNotDisturbStatus: true }),
  entry('Gone Home', 'Gone Home', 'UNAVAILABLE', { isPersistentStatus: true }),
  entry('Available, Remote', 'Available, Remote', 'AVAILABLE', { isPersistentStatus: true }),
  entry('In a Meeting', 'In a Meeting', 'UNAVAILABLE', { canHaveTime: true }),
  entry('On Vacation', 'On Vacation', 'UNAVAILABLE', { canHaveDate: true, isPersistentStatus: true }),
  entry('Out of the Office', 'Out of the Office', 'UNAVAILABLE', { canHaveDate: true, canHaveTime: true }),
  entry('AcdAgentNotAnswering', 'ACD - Agent Not Answering', 'UNAVAILABLE', { isSelectableStatus: false, isAcdStatus: true }),
];
