/**
 * The control API over HTTP, under /_sim/ on the simulator's own port (no auth: the simulator binds loopback),
 * JSON in and out, for tests that run the simulator as a child process and for the demo:
 *
 *   GET    /_sim/users                 every user (the truth)
 *   GET    /_sim/users/{id}            one user (404 when unknown)
 *   POST   /_sim/users/{id}            merge properties {prop: value, …}; null clears → a changed delta
 *   POST   /_sim/lost-change/{id}      the same merge, but no message is sent (a lost message: only a full
 *                                      replace brings it, e.g. icwatch's periodic verification)
 *   PUT    /_sim/users/{id}            add this user (body: the user; configurationId.id defaults to {id}) → added
 *   DELETE /_sim/users/{id}            remove → removed
 *   POST   /_sim/remove-users          {ids}: remove them all in one delta (a mass deletion)
 *   GET    /_sim/hidden                the ids hidden from the service account
 *   POST   /_sim/hidden                {hide?: [ids], show?: [ids] | "all"}: the service account stops (or starts again)
 *                                      seeing them, as after a change of its rights; no message says so
 *   POST   /_sim/churn                 {count}: that many changes now; {perSecond}: background churn rate (0 stops)
 *   POST   /_sim/full-replace          every subscription gets an isDelta:false message, unasked
 *   POST   /_sim/expire-sessions       every session forgotten (next request 401)
 *   POST   /_sim/connection-down       connectionStateChangeMessage (up → down; optional {reason}, e.g. SessionTimeout),
 *                                      then the sessions expire
 *   POST   /_sim/password-expiry       {days: n | null}: daysUntilPasswordExpiration of later logins (null: not sent)
 *   POST   /_sim/faults                a Fault {status?, errorId?, message?, count? (null = unlimited), route?,
 *                                      method?, delayMs?, drop?, alternateHostList?, errorCode?, emptyBody?}
 *   DELETE /_sim/faults                clear every fault
 *   POST   /_sim/refused-login         {status: 400 | 401}: how a refused login is answered (400 = real servers)
 *   POST   /_sim/raw                   {text}: queue this exact text as one message for every session
 *   POST   /_sim/drop-connections      destroy every open socket (the control request's own answers first)
 *   GET    /_sim/requests              every ICWS request seen: [{method, path, route, name, status, at}]
 *   GET    /_sim/sessions              [{sessionId, subscriptions, queued}]
 *   GET    /_sim/mailboxes/{workgroup} the workgroup's monitored mailboxes (404 when unknown)
 *   GET    /_sim/statuses              every user's status (the truth)
 *   GET    /_sim/statuses/{id}         one user's status (404 when unknown)
 *   POST   /_sim/statuses/{id}         change it {statusId?, loggedIn?, onPhone?, notes?, …}; null clears notes,
 *                                      forwardNumber, until → a delta to the user-statuses subscribers
 *   POST   /_sim/status-churn          {count}: that many status changes now; {perSecond}: background rate (0 stops)
 *   POST   /_sim/shift-change          {agents, withinMs}: that many logged-out agents log in within withinMs → {ids}
 *   GET    /_sim/status-subscriptions  the PUTs of the user-statuses subscription: [{sessionId, userIds, status, at}]
 *   PUT    /_sim/status-messages/{id}  add or change a catalogue entry (the body: the entry) → statusMessagesMessage
 *   DELETE /_sim/status-messages/{id}  remove it → statusMessagesMessage (statusMessagesRemoved)
 *
 * Answers: 200 JSON ({ok:true} for actions), 400 {error} naming what was wrong, 404 {error}, 409 when adding an
 * existing user.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { User } from '../icws/messages.js';
import type { SimulatorControl } from './control.js';
import { DirectoryError } from './directory.js';
import { StatusError } from './presence.js';
import type { StatusMessage } from '../icws/user-statuses.js';
import { faultProblem, type Fault } from './faults.js';
import { CONTROL_CONTENT_TYPE, readJson, sendJson } from './http.js';
import type { SimulatorState } from './state.js';

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const object = (body: unknown, what: string): Record<string, unknown> => {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ControlError(400, `${what}: expected a JSON object`);
  return body as Record<string, unknown>;
};
const ok = { ok: true };
const reply = (res: ServerResponse, status: number, body: unknown) => sendJson(res, status, body, {}, CONTROL_CONTENT_TYPE);

async function route(req: IncomingMessage, res: ServerResponse, url: URL, control: SimulatorControl, state: SimulatorState): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const parts = url.pathname.split('/').slice(2).map(decodeURIComponent); // after "", "_sim"
  const [what, id] = parts;
  const body = method === 'GET' || method === 'DELETE' ? undefined : await readJson(req, state.options.maxBodyBytes);
  const key = `${method} ${what ?? ''}${id !== undefined ? '/{id}' : ''}`;
  switch (key) {
    case 'GET users':
      return reply(res, 200, control.users());
    case 'GET users/{id}': {
      const u = control.user(id!);
      return u ? reply(res, 200, u) : reply(res, 404, { error: `no user "${id}"` });
    }
    case 'POST users/{id}':
      control.setProperties(id!, object(body, `POST /_sim/users/${id}`));
      return reply(res, 200, control.user(id!));
    case 'POST lost-change/{id}':
      control.setPropertiesSilently(id!, object(body, `POST /_sim/lost-change/${id}`));
      return reply(res, 200, control.user(id!));
    case 'PUT users/{id}': {
      const user = object(body, `PUT /_sim/users/${id}`) as User;
      const cid = typeof user.configurationId === 'object' && user.configurationId ? user.configurationId : { id: id! };
      if (cid.id !== undefined && cid.id !== id) throw new ControlError(400, `PUT /_sim/users/${id}: configurationId.id is "${cid.id}", expected "${id}"`);
      control.addUser({ ...user, configurationId: { displayName: id, ...cid, id: id! } });
      return reply(res, 200, control.user(id!));
    }
    case 'DELETE users/{id}':
      control.removeUser(id!);
      return reply(res, 200, ok);
    case 'POST remove-users': {
      const b = object(body, 'POST /_sim/remove-users');
      control.removeUsers(b.ids as string[]);
      return reply(res, 200, ok);
    }
    case 'GET hidden':
      return reply(res, 200, control.hiddenUsers());
    case 'POST hidden': {
      const b = object(body, 'POST /_sim/hidden');
      if (b.hide === undefined && b.show === undefined) throw new ControlError(400, 'POST /_sim/hidden: expected {hide: [ids]} or {show: [ids] | "all"}');
      if (b.hide !== undefined) control.hideUsers(b.hide as string[]);
      if (b.show !== undefined) control.showUsers(b.show === 'all' ? undefined : (b.show as string[]));
      return reply(res, 200, ok);
    }
    case 'POST churn': {
      const b = object(body ?? {}, 'POST /_sim/churn');
      if (b.count === undefined && b.perSecond === undefined) throw new ControlError(400, 'POST /_sim/churn: expected {count} or {perSecond}');
      if (b.count !== undefined) control.churn(b.count as number);
      if (b.perSecond !== undefined) control.setChurnRate(b.perSecond as number);
      return reply(res, 200, ok);
    }
    case 'POST full-replace':
      control.forceFullReplace();
      return reply(res, 200, ok);
    case 'POST expire-sessions':
      control.expireSessions();
      return reply(res, 200, ok);
    case 'POST connection-down': {
      const b = object(body ?? {}, 'POST /_sim/connection-down');
      if (b.reason !== undefined && typeof b.reason !== 'string')
        throw new ControlError(400, 'POST /_sim/connection-down: reason must be a string such as "SessionTimeout"');
      control.connectionDown(b.reason);
      return reply(res, 200, ok);
    }
    case 'POST password-expiry': {
      const b = object(body, 'POST /_sim/password-expiry');
      if (b.days !== null && !Number.isInteger(b.days)) throw new ControlError(400, 'POST /_sim/password-expiry: expected {days: <whole number> | null}');
      control.setPasswordExpiryDays(b.days as number | null);
      return reply(res, 200, ok);
    }
    case 'POST faults': {
      const problem = faultProblem(body);
      if (problem) throw new ControlError(400, `POST /_sim/faults: ${problem}`);
      const f = body as Fault & { count?: number | null };
      control.injectFaults({ ...f, count: f.count === null ? Infinity : f.count });
      return reply(res, 200, ok);
    }
    case 'POST refused-login': {
      const b = object(body, 'POST /_sim/refused-login');
      control.setRefusedLoginStatus(b.status as 400 | 401);
      return reply(res, 200, ok);
    }
    case 'DELETE faults':
      control.clearFaults();
      return reply(res, 200, ok);
    case 'POST raw': {
      const b = object(body, 'POST /_sim/raw');
      if (typeof b.text !== 'string') throw new ControlError(400, 'POST /_sim/raw: expected {text: "<the exact message text>"}');
      control.injectRaw(b.text);
      return reply(res, 200, ok);
    }
    case 'POST drop-connections':
      // Answer first, on a connection that closes, so this request is not one of the dropped ones.
      res.setHeader('Connection', 'close');
      reply(res, 200, ok);
      res.on('finish', () => control.dropConnections());
      return;
    case 'GET requests':
      return reply(res, 200, control.requests);
    case 'GET sessions':
      return reply(res, 200, control.sessions());
    case 'GET mailboxes/{id}': {
      const m = control.mailboxes(id!);
      return m ? reply(res, 200, m) : reply(res, 404, { error: `no workgroup "${id}"` });
    }
    case 'GET statuses':
      return reply(res, 200, control.statuses());
    case 'GET statuses/{id}': {
      const st = control.status(id!);
      return st ? reply(res, 200, st) : reply(res, 404, { error: `no user "${id}"` });
    }
    case 'POST statuses/{id}':
      control.setStatus(id!, object(body, `POST /_sim/statuses/${id}`));
      return reply(res, 200, control.status(id!));
    case 'POST status-churn': {
      const b = object(body ?? {}, 'POST /_sim/status-churn');
      if (b.count === undefined && b.perSecond === undefined) throw new ControlError(400, 'POST /_sim/status-churn: expected {count} or {perSecond}');
      if (b.count !== undefined) control.statusChurn(b.count as number);
      if (b.perSecond !== undefined) control.setStatusChurnRate(b.perSecond as number);
      return reply(res, 200, ok);
    }
    case 'POST shift-change': {
      const b = object(body, 'POST /_sim/shift-change');
      return reply(res, 200, { ids: control.shiftChange(b.agents as number, (b.withinMs as number | undefined) ?? 60_000) });
    }
    case 'GET status-subscriptions':
      return reply(res, 200, control.statusSubscriptionPuts());
    case 'PUT status-messages/{id}': {
      const entry = object(body, `PUT /_sim/status-messages/${id}`) as unknown as StatusMessage;
      if (entry.statusId !== undefined && entry.statusId !== id)
        throw new ControlError(400, `PUT /_sim/status-messages/${id}: statusId is "${entry.statusId}", expected "${id}"`);
      control.setStatusMessage({ ...entry, statusId: id! });
      return reply(res, 200, ok);
    }
    case 'DELETE status-messages/{id}':
      control.removeStatusMessage(id!);
      return reply(res, 200, ok);
    default:
      throw new ControlError(404, `no control endpoint ${method} ${url.pathname} (see GET /_sim/)`);
  }
}

const ENDPOINTS = [
  'GET /_sim/users',
  'GET|POST|PUT|DELETE /_sim/users/{id}',
  'POST /_sim/lost-change/{id}',
  'POST /_sim/remove-users',
  'GET|POST /_sim/hidden',
  'POST /_sim/churn',
  'POST /_sim/full-replace',
  'POST /_sim/expire-sessions',
  'POST /_sim/connection-down',
  'POST /_sim/password-expiry',
  'POST|DELETE /_sim/faults',
  'POST /_sim/refused-login',
  'POST /_sim/raw',
  'POST /_sim/drop-connections',
  'GET /_sim/requests',
  'GET /_sim/sessions',
  'GET /_sim/mailboxes/{workgroup}',
  'GET /_sim/statuses',
  'GET|POST /_sim/statuses/{id}',
  'POST /_sim/status-churn',
  'POST /_sim/shift-change',
  'GET /_sim/status-subscriptions',
  'PUT|DELETE /_sim/status-messages/{id}',
];

export async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL, control: SimulatorControl, state: SimulatorState): Promise<void> {
  try {
    if (url.pathname === '/_sim' || url.pathname === '/_sim/') return reply(res, 200, { endpoints: ENDPOINTS });
    await route(req, res, url, control, state);
  } catch (err) {
    if (err instanceof ControlError) return reply(res, err.status, { error: err.message });
    if (err instanceof StatusError) return reply(res, err.kind === 'unknown' ? 404 : 400, { error: err.message });
    if (err instanceof DirectoryError) return reply(res, err.kind === 'unknown' ? 404 : err.kind === 'exists' ? 409 : 400, { error: err.message });
    if (err instanceof Error && err.name === 'BodyError') return reply(res, 400, { error: err.message });
    throw err;
  }
}
