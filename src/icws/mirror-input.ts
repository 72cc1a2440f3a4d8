/**
 * A usersMessage as the mirror takes it (src/mirror/input.ts): the one place ICWS users become the mirror's input.
 * A full replace read from a server-sent event comes already read (read-users.ts); anything else is checked here, one
 * user at a time. Malformed users and removed ids are logged and skipped; the rest of the message goes on.
 */
import type { Logger } from '../log/logger.js';
import type { SessionHandle } from './feed.js';
import { ListedUsers, type CheckedUser, type DeltaUsers, type ReceivedUsers, type ReplaceUser, type UsersInput } from '../mirror/input.js';
import { checkUser, type CheckOptions, type RejectedUser } from './check-user.js';
import { USERS_MESSAGE, type MirroredMessage, type ReceivedUsersMessage, type UsersMessage } from './messages.js';
import { catalogueInputOf, statusesInputOf } from './read-statuses.js';
import { USER_STATUS_MESSAGE } from './user-statuses.js';

/** The message as the mirror takes it, with the session it came from (which the pipeline asks for resyncs). */
export function receivedUsersOf(
  received: ReceivedUsersMessage<MirroredMessage>,
  logger: Logger,
  session?: SessionHandle,
): ReceivedUsers & { session?: SessionHandle } {
  const { message, receivedAt, icServer, syncReason } = received;
  if (message.__type !== USERS_MESSAGE) return { input: presenceInputOf(message), receivedAt, icServer, session };
  return { input: usersInputOf(message, logger), receivedAt, icServer, subscriptionId: message.subscriptionId, syncReason, session };
}

/** A status message (presence) as the mirror takes it: the statuses, or the status catalogue. */
function presenceInputOf(message: Exclude<MirroredMessage, UsersMessage>): UsersInput {
  return message.__type === USER_STATUS_MESSAGE ? statusesInputOf(message) : catalogueInputOf(message);
}

export function usersInputOf(message: UsersMessage, logger: Logger): UsersInput {
  if (message.isDelta === false) {
    // Read from a server-sent event, its users are still arriving: the writer takes them as they come.
    if (message.arrivingUsers) return { kind: 'replace', users: message.arrivingUsers.reportTo(logger) };
    // A full replace carries its users in `added` (and, defensively, `changed`); `removed` means nothing here.
    const users: ReplaceUser[] = [];
    for (const user of message.readUsers ?? []) {
      if (user.kind === 'rejected') warnSkipped(logger, user, 'full replace');
      else users.push(user);
    }
    // Users that arrived parsed (polling) are checked when planned, in the writer's bounded steps.
    for (const field of ['added', 'changed'] as const) {
      for (const user of listOf(message, field, logger)) users.push(new PolledUser(user));
    }
    return { kind: 'replace', users: new ListedUsers(users) };
  }
  return new DeltaToRead(message, logger);
}

/** A user of a polled full replace, checked when the writer plans it. A class, not a closure: one per user. */
class PolledUser {
  readonly kind = 'to-read';
  constructor(private readonly user: unknown) {}

  read(): CheckedUser | RejectedUser {
    return checkUser(this.user, REPLACE);
  }
}

/**
 * A delta whose users are checked when the writer plans it (src/mirror/input.ts): on arrival only its lists' lengths
 * are looked at. A class, not a closure: one object per message on the busiest path.
 */
class DeltaToRead {
  readonly kind = 'delta';
  readonly size: number;

  constructor(
    private readonly message: UsersMessage,
    private readonly logger: Logger,
  ) {
    this.size = sizeOf(message.added) + sizeOf(message.changed) + sizeOf(message.removed);
  }

  /**
   * Checked anew each time (a chunk planned again after a reload reads it again): kept, the checked users would live
   * until the whole batch is written and be copied out of the young generation with it, which costs more than checking.
   */
  read(): DeltaUsers {
    return checkDelta(this.message, this.logger);
  }
}

const sizeOf = (list: unknown) => (Array.isArray(list) ? list.length : 0);

function checkDelta(message: UsersMessage, logger: Logger): DeltaUsers {
  const added: CheckedUser[] = [];
  const changed: CheckedUser[] = [];
  checkInto(added, listOf(message, 'added', logger), 'added', ADDED, logger);
  checkInto(changed, listOf(message, 'changed', logger), 'changed', CHANGED, logger);
  const removed: string[] = [];
  for (const id of listOf(message, 'removed', logger)) {
    if (typeof id === 'string' && id !== '') removed.push(id);
    else logger.warn(`skipped malformed removed id: expected a non-empty string, got ${JSON.stringify(id)?.slice(0, 40)}`);
  }
  return { added, changed, removed };
}

const REPLACE: CheckOptions = { keepNulls: false };
const ADDED: CheckOptions = { keepNulls: false, modifiedAt: true };
const CHANGED: CheckOptions = { keepNulls: true, modifiedAt: true };

function checkInto(into: CheckedUser[], users: unknown[], where: string, options: CheckOptions, logger: Logger): void {
  for (const user of users) {
    const read = checkUser(user, options);
    if (read.kind === 'rejected') warnSkipped(logger, read, where);
    else into.push(read);
  }
}

function warnSkipped(logger: Logger, user: RejectedUser, where: string): void {
  logger.warn(`skipped malformed user ${user.id} in ${where}: ${user.problem}`, { user: user.id, problem: user.problem });
}

function listOf(message: UsersMessage, field: 'added' | 'changed' | 'removed', logger: Logger): unknown[] {
  const list = message[field];
  if (list === undefined || list === null) return [];
  if (Array.isArray(list)) return list;
  logger.warn(`usersMessage.${field} is not a list (got ${typeof list}); ignored`, { subscriptionId: message.subscriptionId });
  return [];
}
