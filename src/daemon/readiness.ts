/** /readyz and the status page's session line, from the feed's session state and the mirror's status. */
import type { SessionState } from '../icws/feed.js';
import type { Readiness } from '../http/types.js';
import type { MirrorStatus } from '../stages/contracts.js';
import { describeLeadership, leadershipReadiness } from '../ha/describe.js';
import type { Leadership } from '../ha/leadership.js';
import type { LeadershipTerm } from '../ha/leadership-term.js';
import { redisAnswers, type RedisClient } from '../redis/client.js';

export interface ReadinessSources {
  /** Whether this process runs the ICWS feed and the mirror writer when it leads (role all, not a worker). */
  writes: boolean;
  term?: Pick<LeadershipTerm, 'feed' | 'mirror'>;
  leadership?: Leadership;
  redis?: RedisClient;
  fanoutStarted: boolean;
  /** The daemon's state type. */
  daemon: string;
  /** What the start is waiting for. */
  waiting?: string;
  lastError?: string;
  /** Users whose removal the delete guard holds, read from Redis (a standby's or a fan-out's view). */
  removalsHeld?: () => Promise<number>;
}

/** /readyz of one daemon: the writer's conditions while it leads, the fan-out's otherwise. */
export async function replicaReadiness(src: ReadinessSources): Promise<Readiness> {
  const stoppingReason = src.daemon === 'draining' || src.daemon === 'failed' || src.daemon === 'stopped' ? 'shutting down' : undefined;
  const { feed, mirror } = src.term ?? {};
  const lead = src.leadership?.state;
  const fanout = async () => fanoutReadiness(src.redis ? await redisAnswers(src.redis) : false, src.fanoutStarted);
  let r: Readiness;
  if (src.writes) {
    if (feed && mirror && lead?.type === 'leader') r = feedReadiness(feed.state, mirror.status());
    // A standby is ready once its fan-out follows the mirror the leader writes.
    else if (lead?.type === 'standby') r = await fanout();
    else {
      const checks = {
        'ICWS session up': false,
        'subscription active': false,
        'Redis reachable': src.redis?.status === 'ready',
        'first full sync applied': false,
      };
      r = { ready: false, checks, reason: lead ? describeLeadership(lead, src.leadership!.replicaId) : src.daemon };
    }
    if (lead) Object.assign(r, leadershipReadiness(lead, src.leadership!.replicaId));
  } else r = await fanout();
  if (src.waiting && src.daemon === 'starting') r.reason = src.waiting;
  const held = mirror && lead?.type === 'leader' ? mirror.status().removalsHeld : await src.removalsHeld?.().catch(() => undefined);
  if (held) r.removalsHeld = held;
  if (src.lastError && !r.lastError) r.lastError = src.lastError;
  return stoppingReason ? { ...r, ready: false, reason: stoppingReason } : r;
}

/** Role all: ICWS session up, subscription active, Redis reachable, first full sync applied. */
export function feedReadiness(session: SessionState, mirror: MirrorStatus): Readiness {
  const up = session.type === 'up';
  const checks = {
    'ICWS session up': up,
    'subscription active': up && session.subscribed,
    'Redis reachable': mirror.redisUp,
    'Redis accepts writes': mirror.refused === undefined,
    'first full sync applied': mirror.synced,
  };
  const reason =
    session.type === 'reconnecting'
      ? session.reason
      : session.type === 'failed'
        ? session.reason
        : session.type === 'connecting'
          ? `connecting to ${session.host} (attempt ${session.attempt})`
          : session.type === 'up' || session.type === 'closed'
            ? mirror.refused
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
