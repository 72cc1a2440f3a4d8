/**
 * The ICWS routes the simulator serves (docs/icws.md): connection, features, messages, the users subscription, the
 * status catalogue, the user statuses (subscription, catalogue changes, setting one) and the monitored-mailboxes bulk update, answering as real servers do (docs/icws.md "Errors", "Content type"). Each route is a template, a short name (the one
 * faults match on) and a handler; routes under /icws/{sessionId}/ are authenticated before their handler runs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConnectionState, CONNECTION_STATE_CHANGE_MESSAGE } from '../icws/messages.js';
import type { RouteName } from './faults.js';
import { LOGIN_REFUSED, readJson, sendError, sendJson } from './http.js';
import { bulkUpdate } from './mailboxes.js';
import { answerPoll, openStream, wantsStream } from './messaging.js';
import type { Session } from './sessions.js';
import type { SimulatorState } from './state.js';
import { randomUUID } from 'node:crypto';
import { StatusError } from './presence.js';
import { checkSubscription } from './subscriptions.js';

export const CONNECTION_REQUEST_TYPE = 'urn:inin.com:connection:icAuthConnectionRequestSettings';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  state: SimulatorState;
  params: Record<string, string>;
  url: URL;
  /** Set for routes under /icws/{sessionId}/. */
  session?: Session;
}

export interface Route {
  name: RouteName;
  method: string;
  template: string;
  pattern: RegExp;
  /** Needs the session's cookie and CSRF header. */
  authenticated: boolean;
  handle(ctx: RouteContext): void | Promise<void>;
}

function route(name: RouteName, method: string, template: string, authenticated: boolean, handle: Route['handle']): Route {
  // {param} matches one path segment; the /icws prefix is matched without regard to case, as IIS-hosted ICWS does.
  const source = template.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)').replace(/^\/icws/, '/[iI][cC][wW][sS]');
  return { name, method, template, pattern: new RegExp(`^${source}/?$`), authenticated, handle };
}

/**
 * The features this simulator announces, each at a version it honours: messaging 2 only when it streams
 * server-sent events, configuration as configured (users carry no property newer than it: users.ts), and
 * connection 1, the base connection resource (login, GET/DELETE connection, features), which is all it offers.
 */
export function features(state: SimulatorState) {
  return [
    { featureId: 'messaging', version: state.options.messagingVersion },
    { featureId: 'configuration', version: state.options.configurationVersion },
    { featureId: 'connection', version: 1 },
  ];
}

/** What GET /icws/connection/version and a login with ?include=version answer. */
const VERSION = { codebaseId: 'ic-sim', majorVersion: 2015, minorVersion: 1, su: 0, productPatchDisplayString: 'simulator' };

/**
 * GET /icws/connection/server-info (unauthenticated; docs/icws.md "Real sites" marks it likely, with no public shape):
 * the server's name, its version and whether it takes logins, which is what a preflight wants to know.
 */
function serverInfo(state: SimulatorState) {
  return {
    serverName: state.options.icServer,
    version: VERSION,
    acceptingConnections: !state.options.notAcceptingConnections,
    alternateHostList: state.options.alternateHostList,
  };
}

/** The login's Accept-Language as a language id for the session cookie (first tag, token characters only). */
function languageIdOf(header: string | string[] | undefined): string {
  const first = String(Array.isArray(header) ? header[0] : header)
    .split(',')[0]!
    .split(';')[0]!
    .trim();
  return first.replace(/[^A-Za-z0-9-]/g, '') || 'en-us';
}

async function connect({ req, res, state, url }: RouteContext): Promise<void> {
  const o = state.options;
  const body = await readJson(req, o.maxBodyBytes);
  if (!req.headers['accept-language']) {
    return sendError(res, 400, { errorId: 'error.request.missingHeader', message: 'The Accept-Language header is required on the connection request.' });
  }
  if (o.notAcceptingConnections) {
    return sendError(res, 503, {
      errorId: 'error.server.notAcceptingConnections',
      message: 'This server is not accepting connections.',
      alternateHostList: o.alternateHostList,
    });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return sendError(res, 400, { errorId: 'error.request.invalidRepresentation.malformed', message: 'The connection request must be a JSON object.' });
  }
  const b = body as Record<string, unknown>;
  if (b.__type !== CONNECTION_REQUEST_TYPE) {
    return sendError(res, 400, {
      errorId: 'error.request.invalidRepresentation.malformed',
      message: `The connection request's __type must be "${CONNECTION_REQUEST_TYPE}".`,
    });
  }
  for (const field of ['applicationName', 'userID', 'password']) {
    if (typeof b[field] !== 'string' || b[field] === '') {
      return sendError(res, 400, {
        errorId: 'error.request.invalidRepresentation.missingProperty',
        message: `The connection request needs "${field}" (a non-empty string).`,
      });
    }
  }
  const full = b.userID === o.user && b.password === o.password;
  const readOnly = !full && b.userID === o.readOnlyUser && b.password === o.readOnlyPassword;
  if (!full && !readOnly) {
    state.log.info('login refused: bad credentials', { userID: b.userID });
    // Real servers: 400 with this errorId and errorCode; the tidy variant (refusedLoginStatus 401) is what simulators do.
    const status = state.refusedLoginStatus;
    return sendError(res, status, {
      errorId: 'error.request.connection.authenticationFailure',
      ...(status === 400 ? { errorCode: LOGIN_REFUSED } : {}),
      message: 'The authentication process failed.',
    });
  }
  const session = state.sessions.create(b.userID as string, readOnly, languageIdOf(req.headers['accept-language']));
  const include = (url.searchParams.get('include') ?? '').split(',');
  const answer: Record<string, unknown> = {
    csrfToken: session.csrfToken,
    sessionId: session.id,
    alternateHostList: o.alternateHostList,
    userID: session.userID,
    userDisplayName: readOnly ? 'Directory Viewer' : 'icwatch service account',
    icServer: o.icServer,
    // Real servers tell how long the password still lasts (docs/icws.md "Real sites"); null: this one does not say.
    ...(state.passwordExpiryDays === null ? {} : { daysUntilPasswordExpiration: state.passwordExpiryDays }),
  };
  if (include.includes('features')) answer.features = features(state);
  if (include.includes('version')) answer.version = VERSION;
  const secure = (req.socket as { encrypted?: boolean }).encrypted ? '; Secure' : '';
  state.log.info('session created', { sessionId: session.id, userID: session.userID, readOnly });
  sendJson(res, 201, answer, {
    'ININ-ICWS-CSRF-Token': session.csrfToken,
    'ININ-ICWS-Session-ID': session.id,
    Location: `/icws/${session.id}/connection`,
    'Set-Cookie': `${session.cookieName}=${session.cookieValue}; Path=/icws/${session.id}${secure}; HttpOnly`,
  });
}

async function putSubscription({ req, res, state, params, session }: RouteContext): Promise<void> {
  const body = await readJson(req, state.options.maxBodyBytes);
  const check = checkSubscription(params.subscriptionId!, body, state.directory, state.options.namedRights);
  if (!check.ok) return sendError(res, check.status, check.error);
  // Re-PUT of an existing id replaces it; either way the first message is a full replace.
  session!.subscriptions.set(check.subscription.id, check.subscription);
  sendJson(res, 200, undefined);
  state.queueFullReplace(session!, check.subscription.id);
}

function deleteSubscription({ res, params, session }: RouteContext): void {
  if (!session!.subscriptions.delete(params.subscriptionId!)) {
    return sendError(res, 404, { errorId: 'error.request.notFound', message: `The message subscription "${params.subscriptionId}" does not exist.` });
  }
  sendJson(res, 204, undefined);
}

async function postMailboxes({ req, res, state, params, session }: RouteContext): Promise<void> {
  const mailboxes = state.mailboxes.get(params.workgroupId!);
  if (!mailboxes) return sendError(res, 404, { errorId: 'error.request.notFound', message: `The workgroup "${params.workgroupId}" does not exist.` });
  if (session!.readOnly) {
    return sendError(res, 403, {
      errorId: 'error.request.accessDenied',
      message: `User "${session!.userID}" is not authorized to modify the monitored mailboxes of workgroup "${params.workgroupId}".`,
    });
  }
  let body: unknown;
  try {
    body = await readJson(req, state.options.maxBodyBytes);
  } catch (err) {
    return sendError(res, 400, {
      errorId: 'error.request.invalidRepresentation.malformed',
      message: `The request representation object was malformed: ${(err as Error).message}.`,
    });
  }
  const result = bulkUpdate(params.workgroupId!, mailboxes, body);
  if (result.status === 200) state.log.info('monitored mailboxes updated', { workgroup: params.workgroupId, mailboxes: mailboxes.size });
  sendJson(res, result.status, result.body);
}

/**
 * PUT messaging/subscriptions/status/user-statuses `{userIds}` (docs/icws.md "User statuses"): one per session, each PUT
 * replaces the list, then a full message (isDelta false) carries the statuses of every listed user. An id the server
 * does not know is refused with 404 naming it (likely, as the reference page lists 404 for this PUT), the list unchanged.
 */
async function putUserStatuses({ req, res, state, session }: RouteContext): Promise<void> {
  const body = await readJson(req, state.options.maxBodyBytes);
  const record = (status: number, userIds: string[] = []) => state.recordStatusPut({ sessionId: session!.id, userIds, status, at: Date.now() });
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    record(400);
    return sendError(res, 400, {
      errorId: 'error.request.invalidRepresentation.malformed',
      message: 'The request representation object was malformed: expected a JSON object.',
    });
  }
  const userIds = (body as Record<string, unknown>).userIds;
  if (!Array.isArray(userIds) || userIds.length === 0 || userIds.some((id) => typeof id !== 'string' || id === '')) {
    record(400);
    return sendError(res, 400, {
      errorId: userIds === undefined ? 'error.request.invalidRepresentation.missingProperty' : 'error.request.invalidRepresentation.invalidProperty',
      message: 'The property "userIds" must be a list of at least one user id.',
    });
  }
  const ids = userIds as string[];
  const unknown = ids.find((id) => !state.presence.peek(id));
  if (unknown !== undefined) {
    record(404, ids);
    return sendError(res, 404, { errorId: 'error.request.notFound', message: `The user "${unknown}" does not exist.` });
  }
  session!.userStatuses = new Set(ids);
  record(200, ids);
  sendJson(res, 200, undefined);
  state.queueStatusReplace(session!);
}

/** PUT status/user-statuses/{userId} `{statusId, notes?, forwardNumber?, until?}` → 202 {requestId}; subscribers get a delta. */
async function setUserStatus({ req, res, state, params, session }: RouteContext): Promise<void> {
  const body = await readJson(req, state.options.maxBodyBytes);
  const userId = params.userId!;
  if (!state.presence.peek(userId)) return sendError(res, 404, { errorId: 'error.request.notFound', message: `The user "${userId}" does not exist.` });
  if (session!.readOnly && session!.userID !== userId) {
    return sendError(res, 403, {
      errorId: 'error.request.accessDenied',
      message: `User "${session!.userID}" is not authorized to set the status of "${userId}".`,
    });
  }
  const b = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const entry = typeof b?.statusId === 'string' ? state.presence.entry(b.statusId) : undefined;
  if (!b || !entry) {
    return sendError(res, 400, {
      errorId: 'error.request.invalidRepresentation.invalidProperty',
      message: `"statusId" must name a status of the catalogue (GET status/status-messages)${typeof b?.statusId === 'string' ? `; "${b.statusId}" is none` : ''}.`,
    });
  }
  const change: Record<string, unknown> = { statusId: entry.statusId };
  for (const key of ['notes', 'forwardNumber', 'until'] as const) if (b[key] !== undefined) change[key] = b[key];
  try {
    state.presence.apply([{ id: userId, change }]);
  } catch (err) {
    if (err instanceof StatusError) return sendError(res, 400, { errorId: 'error.request.invalidRepresentation.invalidProperty', message: err.message });
    throw err;
  }
  sendJson(res, 202, { requestId: randomUUID() });
}

export const ROUTES: Route[] = [
  route('connect', 'POST', '/icws/connection', false, connect),
  route('features', 'GET', '/icws/connection/features', false, ({ res, state }) => sendJson(res, 200, { featureInfoList: features(state) })),
  route('version', 'GET', '/icws/connection/version', false, ({ res }) => sendJson(res, 200, VERSION)),
  route('server-info', 'GET', '/icws/connection/server-info', false, ({ res, state }) => sendJson(res, 200, serverInfo(state))),
  route('connection', 'GET', '/icws/{sessionId}/connection', true, ({ res }) =>
    sendJson(res, 200, { connectionState: ConnectionState.Up, reason: 'Connected', shouldReconnect: false }),
  ),
  route('connection', 'DELETE', '/icws/{sessionId}/connection', true, ({ res, state, session }) => {
    state.sessions.forget(session!.id);
    state.log.info('session logged out', { sessionId: session!.id });
    sendJson(res, 204, undefined);
  }),
  // No switchover under way here; the hosts that would take over are those a 503 names.
  route('switchover-status', 'GET', '/icws/{sessionId}/connection/switchover-status', true, ({ res, state }) =>
    sendJson(res, 200, { switchoverInProgress: false, alternateHostList: state.options.alternateHostList }),
  ),
  // Keeps a session alive, or tests it, without fetching messages (docs/icws.md "Real sites"); 401 once it is gone.
  route('heartbeat', 'POST', '/icws/{sessionId}/messaging/heartbeat', true, ({ req, res }) => {
    req.resume();
    sendJson(res, 204, undefined);
  }),
  route('messages', 'GET', '/icws/{sessionId}/messaging/messages', true, ({ req, res, state, session }) => {
    const opts = { messagingVersion: state.options.messagingVersion, ssePingMs: state.options.ssePingMs, sseRetryMs: state.options.sseRetryMs };
    if (wantsStream(req, opts)) openStream(res, session!, state.sessions, opts);
    else answerPoll(res, session!, state.sessions);
  }),
  route('subscription', 'PUT', '/icws/{sessionId}/messaging/subscriptions/configuration/users/{subscriptionId}', true, putSubscription),
  route('subscription', 'DELETE', '/icws/{sessionId}/messaging/subscriptions/configuration/users/{subscriptionId}', true, deleteSubscription),
  route('status', 'GET', '/icws/{sessionId}/status/status-messages', true, ({ res, state }) =>
    sendJson(res, 200, { statusMessageList: [...state.presence.catalogue.values()] }),
  ),
  route('user-statuses', 'PUT', '/icws/{sessionId}/messaging/subscriptions/status/user-statuses', true, putUserStatuses),
  route('user-statuses', 'DELETE', '/icws/{sessionId}/messaging/subscriptions/status/user-statuses', true, ({ res, session }) => {
    if (!session!.userStatuses) return sendError(res, 404, { errorId: 'error.request.notFound', message: 'There is no user statuses subscription.' });
    session!.userStatuses = undefined;
    sendJson(res, 204, undefined);
  }),
  route('status-messages', 'PUT', '/icws/{sessionId}/messaging/subscriptions/status/status-messages', true, ({ req, res, session }) => {
    req.resume();
    session!.statusMessages = true;
    sendJson(res, 200, undefined);
  }),
  route('status-messages', 'DELETE', '/icws/{sessionId}/messaging/subscriptions/status/status-messages', true, ({ res, session }) => {
    if (!session!.statusMessages) return sendError(res, 404, { errorId: 'error.request.notFound', message: 'There is no status messages subscription.' });
    session!.statusMessages = false;
    sendJson(res, 204, undefined);
  }),
  route('set-status', 'PUT', '/icws/{sessionId}/status/user-statuses/{userId}', true, setUserStatus),
  route('mailboxes', 'POST', '/icws/{sessionId}/configuration/workgroups/{workgroupId}/monitored-mailboxes', true, postMailboxes),
];

/**
 * The connectionStateChangeMessage connectionDown queues before the session goes (every message has isDelta).
 * `reason`: IceLib's ConnectionStateReason name (AdminLogOff, SessionTimeout…: docs/icws.md "Real sites"); without
 * one the message carries none.
 */
export function connectionDownMessage(reason?: string): string {
  return JSON.stringify({
    __type: CONNECTION_STATE_CHANGE_MESSAGE,
    isDelta: true,
    previousConnectionState: ConnectionState.Up,
    newConnectionState: ConnectionState.Down,
    ...(reason ? { reason } : {}),
    shouldReconnect: true,
  });
}
