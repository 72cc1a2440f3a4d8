/**
 * Workgroups as the HTTP reads answer them (README "HTTP reads", docs/presence.md "For readers"): who belongs where is
 * the users' `workgroups` property (a list of `{id, displayName}`), and who of them is logged in, available or on the
 * phone is their `status`. Indexed once per seq of the view, in slices (src/util/turn-budget.ts): counting a large
 * directory never holds the event loop, and a workgroup nobody belongs to is a lookup, not a scan, so a loop over
 * made-up workgroup ids costs nothing.
 */
import type { MirrorHead, UserProps } from '../mirror/reader.js';
import { STATUS } from '../mirror/status-reads.js';
import { TurnBudget } from '../util/turn-budget.js';

/** The user property naming a user's workgroups. */
export const WORKGROUPS = 'workgroups';

/** One workgroup's figures. */
export interface WorkgroupFigures {
  id: string;
  agents: number;
  loggedIn: number;
  available: number;
  onPhone: number;
}

/** A workgroup's agents: their ids and properties, in the order of `GET /v1/users`. */
export interface WorkgroupAgents {
  ids: string[];
  users: UserProps[];
}

/** The workgroups of the users as of `at`. */
export interface WorkgroupIndex {
  at: MirrorHead;
  /** Sorted by id. */
  figures: WorkgroupFigures[];
  agents: ReadonlyMap<string, WorkgroupAgents>;
}

/** Users looked at between two looks at the clock. */
const STEP_USERS = 256;

/** The workgroup ids of a user (each once); none when its `workgroups` is absent or not a list of `{id}`. */
export function workgroupIdsOf(user: UserProps): string[] {
  const list = user[WORKGROUPS];
  if (!Array.isArray(list)) return [];
  const ids: string[] = [];
  for (const w of list) {
    const id = (w as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && id !== '' && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The index of `users` as of `at`. `users` must not change while it is built: take it (e.g. `[...view.users]`)
 * before any await, as the body builds do (a user object itself is never changed in place).
 */
export async function indexWorkgroups(at: MirrorHead, users: readonly (readonly [string, UserProps])[], sliceMs: number): Promise<WorkgroupIndex> {
  const agents = new Map<string, WorkgroupAgents>();
  const figures = new Map<string, WorkgroupFigures>();
  const budget = new TurnBudget(sliceMs);
  for (let i = 0; i < users.length;) {
    for (const end = Math.min(users.length, i + STEP_USERS); i < end; i++) {
      const [id, user] = users[i]!;
      const groups = workgroupIdsOf(user);
      if (!groups.length) continue;
      const status = user[STATUS] as Record<string, unknown> | undefined;
      for (const group of groups) {
        let members = agents.get(group);
        let counts = figures.get(group);
        if (!members || !counts) {
          agents.set(group, (members = { ids: [], users: [] }));
          figures.set(group, (counts = { id: group, agents: 0, loggedIn: 0, available: 0, onPhone: 0 }));
        }
        members.ids.push(id);
        members.users.push(user);
        counts.agents++;
        if (status?.loggedIn === true) counts.loggedIn++;
        if (status?.available === true) counts.available++;
        if (status?.onPhone === true) counts.onPhone++;
      }
    }
    await budget.pace();
  }
  return { at, figures: [...figures.values()].sort((a, b) => byId(a.id, b.id)), agents };
}
