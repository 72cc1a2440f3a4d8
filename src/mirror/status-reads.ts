/**
 * A user's status as readers hold it (docs/presence.md, "For readers"): the stored status properties plus the derived
 * `available`, under the user's `status`. Built from the status hash and the catalogue when a snapshot reads them,
 * then moved on by `op status` entries, which carry `available` whenever it changed: replaying them needs no
 * catalogue. One module for both, so a snapshot, the HTTP view and every replay agree.
 */
import { AVAILABLE, groupsOfCatalogue, isAvailable, type StatusGroups } from './presence.js';

/** A user's properties (and, with presence, its `status`). */
type UserProps = Record<string, unknown>;

/** The user property that holds the status. */
export const STATUS = 'status';

/** A status as readers see it: the stored properties and `available`. */
export type StatusRecord = Record<string, unknown>;

/** Presence as readers need it: the catalogue's groups that count as available (presence.availableGroups). */
export interface StatusRule {
  available: ReadonlySet<string>;
}

/** The catalogue as stored ([statusId, entry JSON, …] or a hash) → statusKey → group. */
export function catalogueGroups(catalogue: Record<string, string> | string[]): StatusGroups {
  if (!Array.isArray(catalogue)) return groupsOfCatalogue(Object.entries(catalogue));
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < catalogue.length; i += 2) pairs.push([catalogue[i]!, catalogue[i + 1]!]);
  return groupsOfCatalogue(pairs);
}

/** A decoded status hash (at least one property) → the record readers hold, `available` derived by the shared rule. */
export function statusRecord(props: Record<string, unknown>, groups: StatusGroups, rule: StatusRule): StatusRecord {
  return { ...props, [AVAILABLE]: isAvailable(props, groups, rule.available) };
}

/**
 * `status` after an `op status` entry's `data` is merged into it (`null` deletes a property); undefined when it is
 * left without `statusId` (the status went away). A status that starts from nothing and whose entry says nothing of
 * `available` is not available: the writer names `available` whenever it changed, and no status is not available.
 */
export function mergedStatus(status: unknown, data: Record<string, unknown>): StatusRecord | undefined {
  const merged: StatusRecord = status && typeof status === 'object' ? { ...(status as StatusRecord) } : {};
  for (const [k, v] of Object.entries(data)) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  if (merged.statusId === undefined) return undefined;
  if (typeof merged[AVAILABLE] !== 'boolean') merged[AVAILABLE] = false;
  return merged;
}

/** `user` with an `op status` entry's data merged into its `status`: a new object, `user` itself is not changed. */
export function withStatusChange(user: UserProps, data: Record<string, unknown>): UserProps {
  const status = mergedStatus(user[STATUS], data);
  const next: UserProps = { ...user };
  if (status) next[STATUS] = status;
  else delete next[STATUS];
  return next;
}
