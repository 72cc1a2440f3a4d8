/**
 * The first steps of the pipeline, from what the ICWS transport read to the usersMessages of our subscription, as
 * the mirror's input.
 * Each is a small operator, so that src/pipeline/pipeline.ts reads as the flow. A bad item is counted, logged and
 * skipped (with a resync when it may have carried changes): one bad message never ends the stream.
 */
import { performance } from 'node:perf_hooks';
import { filter, map, type OperatorFunction, pipe } from 'rxjs';
import type { SessionHandle, SessionItem } from '../icws/feed.js';
import {
  CONNECTION_STATE_CHANGE_MESSAGE,
  ConnectionState,
  SUBSCRIPTION_STATE_MESSAGE,
  USERS_MESSAGE,
  type IcwsMessage,
  type MirroredMessage,
  type ReceivedUsersMessage,
} from '../icws/messages.js';
import { STATUS_MESSAGES_MESSAGE, USER_STATUS_MESSAGE } from '../icws/user-statuses.js';
import { receivedUsersOf } from '../icws/mirror-input.js';
import { parseMessage, shortTypeName } from '../icws/parse.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ReceivedUsers } from '../mirror/input.js';

export interface StepDeps {
  metrics: Metrics;
  logger: Logger;
}

export interface ParsedItem {
  message: IcwsMessage;
  session: SessionHandle;
}

interface UsersItem {
  message: MirroredMessage;
  session: SessionHandle;
  receivedAt: number;
}

/** Raw item → a typed ICWS message. Unreadable, malformed and unknown items are counted and dropped here. */
export function parseItems({ metrics, logger }: StepDeps): OperatorFunction<SessionItem, ParsedItem> {
  const unknownTypesLogged = new Set<string>();
  return pipe(
    filter(({ session }) => session.live),
    map(({ item, session }): ParsedItem | undefined => {
      metrics.lastMessageTimestamp.set(Date.now() / 1000);
      if (item.kind === 'unreadable') {
        metrics.messages.inc({ type: 'malformed', delta: '' });
        logger.warn(`unreadable ICWS messages skipped (${item.reason}); asking a full resync`, { sample: item.sample });
        session.resync('unreadable');
        return undefined;
      }
      const parsed = item.kind === 'parsed' ? item.outcome : parseMessage(item.raw);
      if (parsed.kind === 'malformed') {
        metrics.messages.inc({ type: 'malformed', delta: '' });
        const resync = !parsed.mayCarryChanges ? '' : parsed.statuses ? '; asking the statuses afresh' : '; asking a full resync';
        logger.warn(`malformed ICWS message skipped: ${parsed.reason}${resync}`, { sample: parsed.sample });
        if (parsed.mayCarryChanges && parsed.statuses) session.resyncStatuses();
        else if (parsed.mayCarryChanges) session.resync('unreadable');
        return undefined;
      }
      if (parsed.kind === 'unknown') {
        metrics.messages.inc({ type: 'unknown', delta: '' });
        const first = !unknownTypesLogged.has(parsed.type);
        unknownTypesLogged.add(parsed.type);
        logger.log(first ? 'info' : 'debug', `ignored an ICWS message of unknown type ${parsed.type}`, { sample: parsed.sample });
        return undefined;
      }
      return { message: parsed.message, session };
    }),
    filter((p): p is ParsedItem => p !== undefined),
  );
}

/**
 * Connection and subscription state messages go to their session (log in again, subscribe again); usersMessages (and,
 * with presence, userStatusMessages and statusMessagesMessages) pass.
 */
export function actOnSessionMessages({ metrics }: StepDeps): OperatorFunction<ParsedItem, UsersItem> {
  return pipe(
    filter((p): p is ParsedItem & { message: MirroredMessage } => {
      const { message, session } = p;
      const type = shortTypeName(message.__type);
      switch (message.__type) {
        case USERS_MESSAGE:
        case USER_STATUS_MESSAGE:
        case STATUS_MESSAGES_MESSAGE:
          metrics.messages.inc({ type, delta: String(message.isDelta) });
          return true;
        case CONNECTION_STATE_CHANGE_MESSAGE:
          metrics.messages.inc({ type, delta: '' });
          if (message.newConnectionState === ConnectionState.Down) {
            session.connectionDown(`the server says the connection is down${message.reason ? ` (${message.reason})` : ''}`, message.reason);
          }
          return false;
        case SUBSCRIPTION_STATE_MESSAGE:
          metrics.messages.inc({ type, delta: '' });
          if (message.state === 3) session.subscriptionFaulted(message.error?.message ?? '');
          return false;
      }
    }),
    map((p) => ({ ...p, receivedAt: performance.now() })),
  );
}

/** usersMessages of another subscription are not ours; ours are tagged with where they came from and, for a full replace, why. */
export function keepOurSubscription({ logger }: StepDeps): OperatorFunction<UsersItem, ReceivedUsersMessage<MirroredMessage> & { session: SessionHandle }> {
  return pipe(
    filter(({ message, session }) => {
      // Status messages carry no subscription id: there is one such subscription per session.
      if (message.__type !== USERS_MESSAGE) return true;
      if (message.subscriptionId === undefined || message.subscriptionId === session.subscriptionId) return true;
      logger.debug(`ignored a usersMessage for another subscription (${message.subscriptionId})`);
      message.arrivingUsers?.drop();
      return false;
    }),
    map(({ message, session, receivedAt }) => ({
      message,
      session,
      receivedAt,
      icServer: session.icServer,
      ...(message.isDelta || message.__type !== USERS_MESSAGE ? {} : { syncReason: session.fullReplaceArrived() }),
    })),
  );
}

/** Each of our usersMessages as the mirror takes it (src/mirror/input.ts); malformed users are logged and skipped. */
export function toMirrorInput({
  logger,
}: Pick<StepDeps, 'logger'>): OperatorFunction<
  ReceivedUsersMessage<MirroredMessage> & { session: SessionHandle },
  ReceivedUsers & { session?: SessionHandle }
> {
  return map((m) => receivedUsersOf(m, logger, m.session));
}
