/**
 * The status catalogue the simulator serves at GET /icws/{sessionId}/status/status-messages (docs/icws.md "User
 * statuses"): a few of a CIC server's default statuses, one per status group, with every field real servers give an
 * entry. Which defaults are ACD statuses is not public: here only "Available" and "ACD - Agent Not Answering" are.
 */
export interface StatusMessage {
  statusId: string;
  messageText: string;
  iconUri: string;
  groupTag: 'AVAILABLE' | 'BREAK' | 'FOLLOWUP' | 'TRAINING' | 'UNAVAILABLE';
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

const entry = (statusId: string, messageText: string, groupTag: StatusMessage['groupTag'], flags: Partial<StatusMessage> = {}): StatusMessage => ({
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
  entry('AcdAgentNotAnswering', 'ACD - Agent Not Answering', 'UNAVAILABLE', { isSelectableStatus: false, isAcdStatus: true }),
];
