/**
 * Who is available (README "Presence"): derived, never stored apart. An agent is available when logged in, not on
 * the phone, and in a status whose catalogue group (`groupTag`) is one of presence.availableGroups. Status ids are
 * ids, compared without regard to case (docs/icws.md "User statuses": a real capture carries `Do Not disturb`).
 * The writer derives it for the change entries, the readers for snapshots: one rule for both.
 */

/** The derived property of a status, beside its stored ones. */
export const AVAILABLE = 'available';

/** A status id as compared (lower case). */
export const statusKey = (statusId: string): string => statusId.toLowerCase();

/** statusKey → the status's group (`groupTag`), as the catalogue says. */
export type StatusGroups = ReadonlyMap<string, string>;

/** The groups an operator configured, as compared (upper case: `groupTag`s are upper case on default servers). */
export function availableGroupSet(groups: readonly string[]): ReadonlySet<string> {
  return new Set(groups.map((g) => g.toUpperCase()));
}

/** What the rule reads of a status. */
export interface StatusFacts {
  statusId?: unknown;
  loggedIn?: unknown;
  onPhone?: unknown;
}

export function isAvailable(status: StatusFacts | undefined, groups: StatusGroups, available: ReadonlySet<string>): boolean {
  if (!status || status.loggedIn !== true || status.onPhone === true || typeof status.statusId !== 'string') return false;
  const group = groups.get(statusKey(status.statusId));
  return group !== undefined && available.has(group.toUpperCase());
}

/** The catalogue as the readers hold it: statusKey → group, from `{P}:statuses` (statusId → entry JSON). */
export function groupsOfCatalogue(entries: Iterable<[string, string]>): Map<string, string> {
  const groups = new Map<string, string>();
  for (const [statusId, json] of entries) {
    try {
      const entry = JSON.parse(json) as { groupTag?: unknown };
      if (typeof entry.groupTag === 'string') groups.set(statusKey(statusId), entry.groupTag);
    } catch {
      // An entry that is not JSON names no group: its users are not available.
    }
  }
  return groups;
}
