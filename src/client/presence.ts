/**
 * Presence in the client (docs/presence.md): a user's `status` (the stored status properties plus `available`, which
 * the server derives and sends; the client never computes it) and the per-workgroup tallies the directory keeps as
 * users and statuses change, with the definitions of `GET /v1/workgroups`: agents = users whose `workgroups` lists
 * the workgroup (a list of `{id, displayName}`), loggedIn / available / onPhone = those of them whose status says
 * so (`true`). ES only: the client runs in browsers too.
 */
import type { UserProps, UserRecord } from '../protocol/frames.js';

/** A user's status as the server sends it: the status properties that are set, and `available`. */
export type UserStatus = {
  statusId?: string;
  loggedIn?: boolean;
  onPhone?: boolean;
  available?: boolean;
  notes?: string;
  statusChanged?: string;
  onPhoneChanged?: string;
  stations?: unknown;
  forwardNumber?: string;
  until?: string;
  icServers?: unknown;
} & UserProps;

/** A status frame applied to the local map: what changed (`null`: cleared) and the status after it (undefined: none). */
export interface StatusChange {
  seq: number;
  id: string;
  data: UserProps;
  status: UserStatus | undefined;
}

/** One workgroup's counts, as `GET /v1/workgroups` gives them. */
export interface WorkgroupCounts {
  id: string;
  agents: number;
  loggedIn: number;
  available: number;
  onPhone: number;
}

/** A user's status, when it has one (an object with a `statusId`). */
export function statusOf(user: UserProps | undefined): UserStatus | undefined {
  const s = user?.status;
  return typeof s === 'object' && s !== null && !Array.isArray(s) ? (s as UserStatus) : undefined;
}

/** `status` with a status frame's `data` merged in (`null` deletes); undefined when no `statusId` is left. */
export function mergeStatus(status: UserStatus | undefined, data: UserProps): UserStatus | undefined {
  const next: UserProps = { ...status };
  for (const [k, v] of Object.entries(data)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next.statusId === undefined ? undefined : next;
}

/** The ids of the workgroups a user lists (each once); entries without a string id are left out. */
export function workgroupIdsOf(user: UserProps): string[] {
  const list = user.workgroups;
  if (!Array.isArray(list)) return [];
  const ids = new Set<string>();
  for (const wg of list as unknown[]) {
    const id = typeof wg === 'object' && wg !== null ? (wg as { id?: unknown }).id : undefined;
    if (typeof id === 'string') ids.add(id);
  }
  return [...ids];
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface Tally {
  agents: number;
  loggedIn: number;
  available: number;
  onPhone: number;
  members: Set<string>;
}

/**
 * Workgroup → its members and counts, kept up to date user by user: the directory removes a user's old record and
 * adds its new one on every change, so a change costs the workgroups of one user, not a scan of the directory.
 */
export class WorkgroupTally {
  private readonly groups = new Map<string, Tally>();

  clear(): void {
    this.groups.clear();
  }

  add(id: string, user: UserProps): void {
    this.count(id, user, 1);
  }

  remove(id: string, user: UserProps): void {
    this.count(id, user, -1);
  }

  /** Every workgroup some user lists, sorted by id. */
  workgroups(): WorkgroupCounts[] {
    return [...this.groups.keys()].sort(byId).map((id) => {
      const { agents, loggedIn, available, onPhone } = this.groups.get(id)!;
      return { id, agents, loggedIn, available, onPhone };
    });
  }

  /** The ids of the users who list `workgroupId`. */
  members(workgroupId: string): ReadonlySet<string> {
    return this.groups.get(workgroupId)?.members ?? new Set();
  }

  private count(id: string, user: UserProps, sign: 1 | -1): void {
    const wgs = workgroupIdsOf(user);
    if (!wgs.length) return;
    const status = statusOf(user);
    const loggedIn = status?.loggedIn === true ? sign : 0;
    const available = status?.available === true ? sign : 0;
    const onPhone = status?.onPhone === true ? sign : 0;
    for (const wg of wgs) {
      let t = this.groups.get(wg);
      if (!t) this.groups.set(wg, (t = { agents: 0, loggedIn: 0, available: 0, onPhone: 0, members: new Set() }));
      t.agents += sign;
      t.loggedIn += loggedIn;
      t.available += available;
      t.onPhone += onPhone;
      if (sign > 0) t.members.add(id);
      else t.members.delete(id);
      if (t.agents <= 0) this.groups.delete(wg);
    }
  }
}

/** The records of `ids` whose status is available, sorted by id. */
export function availableRecords(ids: Iterable<string>, get: (id: string) => UserProps | undefined): UserRecord[] {
  const out: UserRecord[] = [];
  for (const id of ids) {
    const user = get(id);
    if (user && statusOf(user)?.available === true) out.push({ id, ...user });
  }
  return out.sort((a, b) => byId(a.id, b.id));
}
