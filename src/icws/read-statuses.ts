/**
 * ICWS user statuses and the status catalogue (docs/icws.md "User statuses") checked, then turned into what the
 * mirror takes at its door (src/mirror/input.ts): each status property as the JSON text the mirror stores. A message
 * with anything malformed in it is refused whole and a resync of the statuses asked, as for usersMessages.
 */
import { encodeValue } from '../mirror/encode.js';
import type { CatalogueEntry, CatalogueInput, CheckedStatus, StatusesInput } from '../mirror/input.js';
import {
  STATUS_MESSAGES_MESSAGE,
  USER_STATUS_MESSAGE,
  USER_STATUS_PROPERTIES,
  type StatusMessage,
  type StatusMessagesMessage,
  type UserStatus,
  type UserStatusMessage,
} from './user-statuses.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isStringList = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** What each status property must be (a date is a compact ISO 8601 text: checked as a string, stored as given). */
const PROPERTY_CHECKS: Record<(typeof USER_STATUS_PROPERTIES)[number], [(v: unknown) => boolean, string]> = {
  statusId: [(v) => typeof v === 'string' && v !== '', 'a non-empty string'],
  notes: [(v) => typeof v === 'string', 'a string'],
  forwardNumber: [(v) => typeof v === 'string', 'a string'],
  until: [isObject, 'an object {untilDateTime, hasDate, hasTime}'],
  onPhone: [(v) => typeof v === 'boolean', 'true or false'],
  onPhoneChanged: [(v) => typeof v === 'string', 'a date string such as 20201029T082018Z'],
  statusChanged: [(v) => typeof v === 'string', 'a date string such as 20201029T082018Z'],
  stations: [isStringList, 'a list of strings'],
  icServers: [isStringList, 'a list of strings'],
  loggedIn: [(v) => typeof v === 'boolean', 'true or false'],
};

/** What is wrong with element `i` of a userStatusList, or undefined. */
function statusProblem(i: number, status: unknown, isDelta: boolean): string | undefined {
  if (!isObject(status)) return `userStatusList[${i}] is not an object`;
  if (typeof status.userId !== 'string' || status.userId === '') return `userStatusList[${i}].userId is not a non-empty string`;
  // A delta says what changed; a full replace carries every status whole, so its statusId is required.
  if (!isDelta && status.statusId === undefined) return `userStatusList[${i}] (${status.userId}) has no statusId`;
  for (const prop of USER_STATUS_PROPERTIES) {
    const value = status[prop];
    if (value === undefined || value === null) continue;
    const [ok, expected] = PROPERTY_CHECKS[prop];
    if (!ok(value)) return `userStatusList[${i}] (${status.userId}).${prop} is ${JSON.stringify(value)?.slice(0, 40)}, expected ${expected}`;
  }
  return undefined;
}

/** The checked userStatusMessage, or what is wrong with it; `streamed`: its userStatusList read element by element. */
export function userStatusMessage(v: Record<string, unknown>, streamed?: unknown[]): UserStatusMessage | string {
  if (typeof v.isDelta !== 'boolean') return `isDelta is ${JSON.stringify(v.isDelta) ?? 'missing'}, expected true or false`;
  const list = streamed ?? v.userStatusList ?? [];
  if (!Array.isArray(list)) return 'userStatusList is not a list';
  for (let i = 0; i < list.length; i++) {
    const problem = statusProblem(i, list[i], v.isDelta);
    if (problem) return problem;
  }
  return { __type: USER_STATUS_MESSAGE, isDelta: v.isDelta, userStatusList: list as UserStatus[] };
}

/** The checked statusMessagesMessage, or what is wrong with it. */
export function statusMessagesMessage(v: Record<string, unknown>): StatusMessagesMessage | string {
  if (typeof v.isDelta !== 'boolean') return `isDelta is ${JSON.stringify(v.isDelta) ?? 'missing'}, expected true or false`;
  const out: StatusMessagesMessage = { __type: STATUS_MESSAGES_MESSAGE, isDelta: v.isDelta };
  for (const list of ['statusMessagesAdded', 'statusMessagesChanged'] as const) {
    const items = v[list];
    if (items === undefined || items === null) continue;
    if (!Array.isArray(items)) return `${list} is not a list`;
    const bad = items.findIndex((e) => !isObject(e) || typeof e.statusId !== 'string' || e.statusId === '');
    if (bad >= 0) return `${list}[${bad}] is not a status with statusId a non-empty string`;
    out[list] = items as StatusMessage[];
  }
  const removed = v.statusMessagesRemoved;
  if (removed !== undefined && removed !== null) {
    if (!isStringList(removed)) return 'statusMessagesRemoved is not a list of status ids';
    out.statusMessagesRemoved = removed as string[];
  }
  return out;
}

/** A userStatusMessage as the mirror takes it: a full replace (isDelta false) or the changes. */
export function statusesInputOf(message: UserStatusMessage): StatusesInput {
  const statuses: CheckedStatus[] = message.userStatusList.map((status) => {
    const record = status as unknown as Record<string, unknown>;
    const props = new Map<string, string | null>();
    for (const prop of USER_STATUS_PROPERTIES) {
      const value = record[prop];
      if (value === undefined) continue;
      // In a delta a null clears the property; a full replace carries what is set.
      if (value === null) {
        if (message.isDelta) props.set(prop, null);
        continue;
      }
      props.set(prop, encodeValue(prop, value) as string);
    }
    return { id: status.userId, props };
  });
  return { kind: 'statuses', replace: !message.isDelta, statuses };
}

/** A statusMessagesMessage (or the catalogue as GET status/status-messages answers it) as the mirror takes it. */
export function catalogueInputOf(message: StatusMessagesMessage): CatalogueInput {
  const entries: CatalogueEntry[] = [...(message.statusMessagesAdded ?? []), ...(message.statusMessagesChanged ?? [])].map((entry) => ({
    statusId: entry.statusId,
    json: JSON.stringify(entry),
    group: typeof entry.groupTag === 'string' ? entry.groupTag : '',
  }));
  return { kind: 'catalogue', replace: !message.isDelta, entries, removed: message.statusMessagesRemoved ?? [] };
}
