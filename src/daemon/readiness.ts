/** /readyz and the status page's session line, from the feed's session state and the mirror's status. */
import type { SessionState } from '../icws/feed.js';
import type { Readiness } from '../http/types.js';
import type { MirrorStatus } from './stages.js';

/** Role all: ICWS session up, subscription active, Redis reachable, first full sync applied. */
export function feedReadiness(session: SessionState, mirror: MirrorStatus): Readiness {
  const up = session.type === 'up';
  const checks = {
    'ICWS session up': up,
    'subscription active': up && session.subscribed,
    'Redis reachable': mirror.redisUp,
    'first full sync applied': mirror.synced,
  };
  const reason =
    session.type === 'reconnecting' ? session.reason
    : session.type === 'failed' ? session.reason
    : session.type === 'connecting' ? `connecting to ${session.host} (attempt ${session.attempt})`
    : session.type === 'up' || session.type === 'closed' ? undefined
    : session.type;
  const lastError = (session.type === 'reconnecting' ? session.lastError : undefined) ?? mirror.lastError;
  return {
    ready: Object.values(checks).every(Boolean),
    checks,
    ...(reason ? { reason } : {}),
    ...(lastError ? { lastError } : {}),
  };
}

/** Role fanout: Redis reachable and the fan-out serving. */
export function fanoutReadiness(redisUp: boolean, fanoutStarted: boolean, lastError?: string): Readiness {
  const checks = { 'Redis reachable': redisUp, 'fan-out started': fanoutStarted };
  return { ready: redisUp && fanoutStarted, checks, ...(lastError ? { lastError } : {}) };
}

export function describeSession(s: SessionState): string {
  switch (s.type) {
    case 'up':
      return `up on ${s.host} (IC server ${s.icServer}${s.subscribed ? ', subscribed' : ', subscribing'})`;
    case 'connecting':
      return `connecting to ${s.host} (attempt ${s.attempt})`;
    case 'reconnecting':
      return `reconnecting in ${Math.round(s.retryInMs / 100) / 10} s: ${s.reason}${s.lastError ? ` (${s.lastError})` : ''}`;
    case 'failed':
      return `failed: ${s.reason}`;
    default:
      return s.type;
  }
}
