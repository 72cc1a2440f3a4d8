/**
 * icwatch_available_agents{workgroup}, for the workgroups an operator listed (presence.metricWorkgroups: a list, so
 * labels stay bounded). Membership comes from the users' `workgroups` property (a list of `{id, displayName}`),
 * followed as the writer plans it; availability from the statuses (src/mirror/statuses.ts).
 */
import type { Metrics } from '../metrics/metrics.js';
import type { StatusBook } from './statuses.js';

export class WorkgroupAvailability {
  /** workgroup id → the ids of its members (only the listed workgroups). */
  private readonly members = new Map<string, Set<string>>();

  constructor(
    workgroups: readonly string[],
    private readonly metrics: Metrics,
  ) {
    for (const id of workgroups) this.members.set(id, new Set());
  }

  /** The user's `workgroups` property is now `json` (its stored JSON; null = cleared, or the user left). */
  readonly userWorkgroups = (userId: string, json: string | null): void => {
    const listed = new Set(json === null ? [] : workgroupIdsOf(json));
    for (const [workgroup, members] of this.members) {
      if (listed.has(workgroup)) members.add(userId);
      else members.delete(userId);
    }
  };

  /** Forget every membership (before a load replays them). */
  clear(): void {
    for (const members of this.members.values()) members.clear();
  }

  /** Sets each listed workgroup's gauge from the statuses as they stand. */
  update(statuses: StatusBook): void {
    for (const [workgroup, members] of this.members) {
      let available = 0;
      for (const id of members) if (statuses.available(id)) available++;
      this.metrics.availableAgents.set({ workgroup }, available);
    }
  }
}

/** The ids of a `workgroups` value (a list of `{id}`; anything else names none). */
function workgroupIdsOf(json: string): string[] {
  try {
    const value = JSON.parse(json) as unknown;
    if (!Array.isArray(value)) return [];
    return value.flatMap((w) => (w && typeof w === 'object' && typeof (w as { id?: unknown }).id === 'string' ? [(w as { id: string }).id] : []));
  } catch {
    return [];
  }
}
