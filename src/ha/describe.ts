/** The leadership in words, for the status page, and as /readyz reports it. */
import type { LeadershipState } from './leadership.js';

export function describeLeadership(state: LeadershipState, replicaId: string): string {
  switch (state.type) {
    case 'leader':
      return `leader: this replica (${replicaId}${state.fence === undefined ? ', ha.enabled false' : `, fence ${state.fence}`})`;
    case 'standby':
      return `standby: the leader is ${state.leader ?? 'not known yet'} (this replica: ${replicaId})`;
    case 'acquiring':
      return `acquiring the leader lease (this replica: ${replicaId})`;
    case 'stepping-down':
      return `stepping down: ${state.reason}`;
    case 'stopped':
      return 'stopped';
  }
}

/** What /readyz adds to its body: `leader` or `standby` (or the transition under way), and who leads. */
export function leadershipReadiness(state: LeadershipState, replicaId: string): { leadership: string; leader?: string } {
  const leader = state.type === 'leader' ? replicaId : state.type === 'standby' ? state.leader : undefined;
  return { leadership: state.type, ...(leader ? { leader } : {}) };
}
