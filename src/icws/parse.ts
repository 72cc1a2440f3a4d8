/**
 * Raw ICWS message (a JSON text from SSE, or an element of a poll's JSON array) → typed IcwsMessage, discriminated
 * on __type. Nothing here throws: a message that cannot be used is reported as malformed or unknown, with a short
 * redacted sample for the log, so that the caller counts it, skips it and goes on.
 */
import { redactText } from '../log/redact.js';
import { propertyTypeProblem } from './property-types.js';
import type { ReadUser } from './read-users.js';
import { CONNECTION_STATE_CHANGE_MESSAGE, SUBSCRIPTION_STATE_MESSAGE, USERS_MESSAGE, type IcwsMessage, type User, type UsersMessage } from './messages.js';
import { STATUS_MESSAGES_MESSAGE, USER_STATUS_MESSAGE } from './user-statuses.js';
import { statusMessagesMessage, userStatusMessage } from './read-statuses.js';

/** Longest sample of a bad message that reaches a log line. */
export const SAMPLE_CHARS = 200;

export type ParseOutcome =
  | { kind: 'message'; message: IcwsMessage }
  /** `mayCarryChanges`: it could have been a usersMessage, so the mirror may have missed changes (ask a resync). */
  | { kind: 'malformed'; reason: string; sample: string; mayCarryChanges: boolean; statuses?: true }
  | { kind: 'unknown'; type: string; sample: string };

/** The short type name used as the `type` label of icwatch_messages_total ("usersMessage", …). */
export function shortTypeName(type: string): string {
  return type.slice(type.lastIndexOf(':') + 1);
}

/** At most SAMPLE_CHARS characters of `raw`, secrets removed. */
export function sampleOf(raw: unknown): string {
  let text: string;
  if (typeof raw === 'string') text = raw;
  else {
    try {
      text = JSON.stringify(raw) ?? String(raw);
    } catch {
      text = String(raw);
    }
  }
  const cut = text.length > SAMPLE_CHARS ? `${text.slice(0, SAMPLE_CHARS - 1)}…` : text;
  return redactText(cut);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * `checked`: user lists already read and checked one user at a time (a streamed server-sent event, see
 * message-stream.ts); they replace the emptied lists of `raw`.
 */
export function parseMessage(raw: unknown, checked?: CheckedLists): ParseOutcome {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      return { kind: 'malformed', reason: `not JSON (${(err as Error).message})`, sample: sampleOf(raw), mayCarryChanges: true };
    }
  }
  if (!isObject(value)) return { kind: 'malformed', reason: 'not a JSON object', sample: sampleOf(raw), mayCarryChanges: true };
  const type = value.__type;
  if (typeof type !== 'string') return { kind: 'malformed', reason: '__type missing or not a string', sample: sampleOf(raw), mayCarryChanges: true };
  const bad = (reason: string, mayCarryChanges = false): Extract<ParseOutcome, { kind: 'malformed' }> => ({
    kind: 'malformed',
    reason,
    sample: sampleOf(raw),
    mayCarryChanges,
  });
  switch (type) {
    case USERS_MESSAGE: {
      const message = usersMessage(value, checked);
      return typeof message === 'string' ? bad(`usersMessage: ${message}`, true) : { kind: 'message', message };
    }
    case USER_STATUS_MESSAGE: {
      // A streamed event carries its statuses read element by element (message-stream.ts).
      const message = checked?.problem ?? userStatusMessage(value, checked?.lists.get('userStatusList'));
      // What it may have carried are statuses: a resync of the statuses, not of the users (statuses: true).
      return typeof message === 'string' ? { ...bad(`userStatusMessage: ${message}`, true), statuses: true } : { kind: 'message', message };
    }
    case STATUS_MESSAGES_MESSAGE: {
      const message = statusMessagesMessage(value);
      return typeof message === 'string' ? { ...bad(`statusMessagesMessage: ${message}`, true), statuses: true } : { kind: 'message', message };
    }
    case CONNECTION_STATE_CHANGE_MESSAGE:
      if (typeof value.newConnectionState !== 'number') return bad('connectionStateChangeMessage: newConnectionState is not a number');
      return {
        kind: 'message',
        message: {
          __type: CONNECTION_STATE_CHANGE_MESSAGE,
          previousConnectionState: typeof value.previousConnectionState === 'number' ? value.previousConnectionState : -1,
          newConnectionState: value.newConnectionState,
          ...(typeof value.reason === 'string' ? { reason: value.reason } : {}),
          ...(typeof value.shouldReconnect === 'boolean' ? { shouldReconnect: value.shouldReconnect } : {}),
        },
      };
    case SUBSCRIPTION_STATE_MESSAGE:
      if (typeof value.state !== 'number') return bad('subscriptionStateMessage: state is not a number');
      return {
        kind: 'message',
        message: {
          __type: SUBSCRIPTION_STATE_MESSAGE,
          state: value.state,
          ...(isObject(value.error) ? { error: value.error } : {}),
        },
      };
    default:
      return { kind: 'unknown', type, sample: sampleOf(raw) };
  }
}

/** Lists of a usersMessage read and checked element by element: `problem` is the first thing wrong found in them. */
export interface CheckedLists {
  lists: Map<string, unknown[]>;
  /** A full replace's `added`, read into what the mirror takes (read-users.ts). */
  readUsers?: ReadUser[];
  problem?: string;
}

/** What is wrong with element `i` of a usersMessage list, or undefined. */
export function listElementProblem(list: string, i: number, element: unknown): string | undefined {
  if (list === 'removed') return typeof element === 'string' ? undefined : `removed[${i}] is not a user id string`;
  if (!isObject(element) || !isObject(element.configurationId) || typeof element.configurationId.id !== 'string') {
    return `${list}[${i}] is not a user with configurationId.id a string`;
  }
  const problem = propertyTypeProblem(element);
  return problem ? `${list}[${i}] (${(element as User).configurationId.id}): ${problem}` : undefined;
}

/** The checked usersMessage, or what is wrong with it. Absent (or null) lists are left out. */
function usersMessage(v: Record<string, unknown>, checked?: CheckedLists): UsersMessage | string {
  if (typeof v.isDelta !== 'boolean') return `isDelta is ${JSON.stringify(v.isDelta) ?? 'missing'}, expected true or false`;
  if (v.subscriptionId !== undefined && v.subscriptionId !== null && typeof v.subscriptionId !== 'string') return 'subscriptionId is not a string';
  if (checked?.problem) return checked.problem;
  const out: UsersMessage = { __type: USERS_MESSAGE, isDelta: v.isDelta };
  if (typeof v.subscriptionId === 'string') out.subscriptionId = v.subscriptionId;
  if (checked?.readUsers) out.readUsers = checked.readUsers;
  for (const list of ['added', 'changed', 'removed'] as const) {
    const done = checked?.lists.get(list);
    if (done || (list === 'added' && checked?.readUsers)) {
      if (!done) continue;
      (out as unknown as Record<string, unknown[]>)[list] = done;
      continue;
    }
    const items = v[list];
    if (items === undefined || items === null) continue;
    if (!Array.isArray(items)) return `${list} is not a list`;
    for (let i = 0; i < items.length; i++) {
      const problem = listElementProblem(list, i, items[i]);
      if (problem) return problem;
    }
    (out as unknown as Record<string, unknown[]>)[list] = items;
  }
  return out;
}
