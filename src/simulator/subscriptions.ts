/**
 * The users subscription (the vendor's reference page; docs/icws.md "Subscription"): validation of the PUT body as the reference page states it,
 * and the projection of the directory onto one subscription: the first message (isDelta:false, null properties
 * left out) and the deltas that follow (only the subscribed properties that changed; null = cleared).
 */
import { USERS_MESSAGE, type User, type UsersMessage } from '../icws/messages.js';
import { ListMessageText } from './message-text.js';
import type { ReplaceItem, UserTexts } from './user-texts.js';
import { isRightsFilter } from '../icws/subscription.js';
import type { Directory, DirectoryDelta } from './directory.js';
import type { ErrorBody } from './http.js';

export interface Subscription {
  id: string;
  /** undefined = every user (`*`). */
  configurationIds?: Set<string>;
  /** undefined = every property (`*`). */
  properties?: Set<string>;
  rightsFilter: string;
}

export type SubscriptionCheck = { ok: true; subscription: Subscription } | { ok: false; status: number; error: ErrorBody };

const invalid = (errorId: string, message: string): SubscriptionCheck => ({ ok: false, status: 400, error: { errorId, message } });

function stringList(body: Record<string, unknown>, field: string): string[] | SubscriptionCheck {
  const value = body[field];
  if (value === undefined || value === null) {
    return invalid('error.request.invalidRepresentation.missingProperty', `The required property "${field}" is missing: expected a list of strings.`);
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    return invalid('error.request.invalidRepresentation.invalidProperty', `The property "${field}" must be a list of non-empty strings.`);
  }
  if (value.length === 0) return invalid('error.request.invalidRepresentation.invalidProperty', `The property "${field}" must not be empty.`);
  return value as string[];
}

/** The rights filters every server takes; named rights besides them are the server's own list. */
const BUILT_IN_RIGHTS = ['view', 'admin', 'loggedInUser'];

/**
 * Checks a PUT body in the server's order: representation, required fields, the rights filter, the wildcard rule,
 * then the user ids. `namedRights`: the named rights this server knows (any other name is refused).
 */
export function checkSubscription(id: string, body: unknown, directory: Directory, namedRights: readonly string[] = []): SubscriptionCheck {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return invalid('error.request.invalidRepresentation.malformed', 'The request representation object was malformed: expected a JSON object.');
  }
  const b = body as Record<string, unknown>;
  const ids = stringList(b, 'configurationIds');
  if (!Array.isArray(ids)) return ids;
  const properties = stringList(b, 'properties');
  if (!Array.isArray(properties)) return properties;
  if (b.rightsFilter === undefined || b.rightsFilter === null) {
    return invalid(
      'error.request.invalidRepresentation.missingProperty',
      'The required property "rightsFilter" is missing: expected view, admin, loggedInUser or a right name.',
    );
  }
  if (!isRightsFilter(b.rightsFilter)) {
    return invalid(
      'error.request.invalidRepresentation.invalidProperty',
      `The property "rightsFilter" must be view, admin, loggedInUser or the name of a right, not ${JSON.stringify(b.rightsFilter)}.`,
    );
  }
  if (!BUILT_IN_RIGHTS.includes(b.rightsFilter) && !namedRights.includes(b.rightsFilter)) {
    return invalid(
      'error.request.invalidRepresentation.invalidProperty',
      `The property "rightsFilter" names an unknown right "${b.rightsFilter}": expected one of ${[...BUILT_IN_RIGHTS, ...namedRights].join(', ')}.`,
    );
  }
  const allIds = ids.includes('*');
  const allProperties = properties.includes('*');
  if (allIds && allProperties) {
    return invalid(
      'error.request.invalidRepresentation.invalidProperty',
      'The wildcard "*" in "configurationIds" cannot be combined with a wildcard in "properties".',
    );
  }
  if (!allIds) {
    const missing = ids.find((u) => !directory.has(u));
    if (missing !== undefined)
      return { ok: false, status: 404, error: { errorId: 'error.request.notFound', message: `A user does not exist for the ID "${missing}".` } };
  }
  return {
    ok: true,
    subscription: {
      id,
      configurationIds: allIds ? undefined : new Set(ids),
      properties: allProperties ? undefined : new Set(properties),
      rightsFilter: b.rightsFilter,
    },
  };
}

const watches = (s: Subscription, id: string) => !s.configurationIds || s.configurationIds.has(id);
/** Whether the service account may see a user (the control API hides users as a change of rights would). */
export type Visible = (id: string) => boolean;
const everyone: Visible = () => true;
const wants = (s: Subscription, property: string) => !s.properties || s.properties.has(property);

/** The user as this subscription sees it: configurationId plus the subscribed properties (null ones left out unless `keepNulls`). */
function project(s: Subscription, user: User, keepNulls: boolean): User {
  const out: User = { configurationId: user.configurationId };
  for (const [k, v] of Object.entries(user)) {
    if (k === 'configurationId' || !wants(s, k)) continue;
    if (v === null && !keepNulls) continue;
    out[k] = v;
  }
  return out;
}

/**
 * The first message after a PUT, and every forced full replace: its text, made piece by piece as it is sent, of
 * each user's cached text where there is one (user-texts.ts).
 */
export function fullReplace(s: Subscription, directory: Directory, texts: UserTexts, visible: Visible = everyone): ListMessageText<ReplaceItem> {
  const view = s.properties ? [...s.properties].sort().join(',') : '*';
  const added: ReplaceItem[] = [];
  const add = (u: User) => visible(u.configurationId.id) && added.push(texts.item(view, u.configurationId.id, () => project(s, u, false)));
  if (s.configurationIds) {
    for (const id of s.configurationIds) {
      const u = directory.peek(id);
      if (u) add(u);
    }
  } else {
    for (const u of directory.values()) add(u);
  }
  return new ListMessageText({ __type: USERS_MESSAGE, isDelta: false, subscriptionId: s.id }, 'added', added, (item) => texts.encode(view, item));
}

/** The delta this subscription sees of a directory mutation, or undefined when nothing it watches changed. */
export function deltaFor(s: Subscription, delta: DirectoryDelta, visible: Visible = everyone): UsersMessage | undefined {
  const sees = (id: string) => watches(s, id) && visible(id);
  const added = (delta.added ?? []).filter((u) => sees(u.configurationId.id)).map((u) => project(s, u, false));
  const changed: User[] = [];
  for (const u of delta.changed ?? []) {
    if (!sees(u.configurationId.id)) continue;
    const p = project(s, u, true);
    // A change touching only properties this subscription does not follow is not sent; a subscribed
    // lastModifiedDate did change, though, so it goes out even alone and the client's view stays the truth.
    if (Object.keys(p).length > 1) changed.push(p);
  }
  const removed = (delta.removed ?? []).filter(sees);
  if (!added.length && !changed.length && !removed.length) return undefined;
  const message: UsersMessage = { __type: USERS_MESSAGE, isDelta: true, subscriptionId: s.id };
  if (added.length) message.added = added;
  if (changed.length) message.changed = changed;
  if (removed.length) message.removed = removed;
  return message;
}
