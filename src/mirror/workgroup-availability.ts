/**
 * icwatch_available_agents{workgroup}, for the workgroups an operator listed (presence.metricWorkgroups: a list, so
 * labels stay bounded). Membership comes from the users' `workgroups` property (a list of `{id, displayName}`),
 * followed as the writer plans it; availability from the statuses (src/mirror/statuses.ts). Both are followed change
 * by change, so a commit costs what it changed, not a count of every member (2,000 status changes a second at
 * 100,000 users: docs/presence.md).
 */
import type { Metrics } from '../metrics/metrics.js';

export class WorkgroupAvailability {
  /** workgroup id → the ids of its members (only the listed workgroups). */
  private readonly members = new Map<string, Set<string>>();
  /** workgroup id → how many of its members are available now. */
  private readonly available = new Map<string, number>();
  /** Counts changed since the gauges were last set. */
  private dirty = true;

  constructor(
    workgroups: readonly string[],
    private readonly metrics: Metrics,
    /** Whether a user's status counts as available now (the writer's statuses). */
    private readonly isAvailable: (userId: string) => boolean,
  ) {
    for (const id of workgroups) {
      this.members.set(id, new Set());
      this.available.set(id, 0);
    }
  }

  /** The user's `workgroups` property is now `json` (its stored JSON; null = cleared, or the user left). */
  readonly userWorkgroups = (userId: string, json: string | null): void => {
    const listed = new Set(json === null ? [] : workgroupIdsOf(json));
    const available = this.isAvailable(userId);
    for (const [workgroup, members] of this.members) {
      const was = members.has(userId);
      const is = listed.has(workgroup);
      if (was === is) continue;
      if (is) members.add(userId);
      else members.delete(userId);
      if (available) this.add(workgroup, is ? 1 : -1);
    }
  };

  /** The user's availability changed (a status written, a catalogue change, the user gone). */
  readonly availabilityChanged = (userId: string, available: boolean): void => {
    for (const [workgroup, members] of this.members) if (members.has(userId)) this.add(workgroup, available ? 1 : -1);
  };

  /** Forget every membership (before a load replays them). */
  clear(): void {
    for (const members of this.members.values()) members.clear();
    for (const workgroup of this.available.keys()) this.available.set(workgroup, 0);
    this.dirty = true;
  }

  /** Sets the gauges to the counts, when they changed. */
  update(): void {
    if (!this.dirty) return;
    this.dirty = false;
    for (const [workgroup, count] of this.available) this.metrics.availableAgents.set({ workgroup }, count);
  }

  private add(workgroup: string, delta: number): void {
    this.available.set(workgroup, this.available.get(workgroup)! + delta);
    this.dirty = true;
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
