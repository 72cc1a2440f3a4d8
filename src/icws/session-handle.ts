/**
 * The SessionHandle a live session's items carry (src/icws/feed.ts): what the pipeline may tell the session those
 * items came from. Every call is a no-op once that session has ended, so a late item can never act on the next one.
 */
import type { Logger } from '../log/logger.js';
import type { SessionHandle } from './feed.js';
import type { SessionInfo } from './connection.js';
import type { PutSession, SubscriptionPuts } from './subscription-puts.js';
import { downReason } from './failures.js';

export interface HandleContext {
  /** Whether the session is still the live one. */
  isLive: () => boolean;
  puts: SubscriptionPuts;
  log: Logger;
  /** Told when a full replace arrived (the feed resets its login backoff). */
  fullReplaceArrived: () => void;
  /** Presence: ask the statuses afresh (a no-op without presence). */
  resyncStatuses: () => void;
}

export function sessionHandle(session: () => PutSession & { info: SessionInfo }, ctx: HandleContext): SessionHandle {
  const { isLive, puts, log } = ctx;
  return {
    get icServer() {
      return session().info.icServer;
    },
    get subscriptionId() {
      return session().subscription.config.id;
    },
    get live() {
      return isLive();
    },
    // Not live: the next session's subscription starts with a full replace anyway.
    resync: (reason) => isLive() && puts.resync(session(), reason),
    connectionDown: (detail, reason) =>
      isLive() && session().end({ reason: downReason(reason), description: reason ? `connection down: ${reason}` : 'connection down', detail }),
    subscriptionFaulted: (detail) => {
      if (!isLive()) return;
      log.warn(`the server reports the subscription faulted${detail ? ` (${detail})` : ''}; subscribing again`);
      puts.again(session(), 'resubscribe');
    },
    resyncStatuses: () => isLive() && ctx.resyncStatuses(),
    fullReplaceArrived: () => {
      ctx.fullReplaceArrived();
      return puts.fullReplaceArrived();
    },
  };
}
