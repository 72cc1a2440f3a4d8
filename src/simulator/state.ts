/**
 * Everything one simulator holds, shared by its ICWS routes, its control API and its churn timer; and the one
 * place where a directory mutation becomes a usersMessage on every subscription that watches it.
 */
import { UserTexts } from './user-texts.js';
import type { User } from '../icws/messages.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { Churn } from './churn.js';
import { Directory } from './directory.js';
import { FaultTable } from './faults.js';
import { initialMailboxes, type MonitoredMailbox } from './mailboxes.js';
import { SessionStore, type Session } from './sessions.js';
import { deltaFor, fullReplace } from './subscriptions.js';
import { generateUsers } from './users.js';
import { Presence } from './presence.js';
import { StatusChurn } from './status-churn.js';
import { USER_STATUS_MESSAGE, type UserStatusMessage } from '../icws/user-statuses.js';

export interface SimulatorOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (any free port) */
  port?: number;
  /** generated users, default 200 */
  users?: number;
  /** default 1: users and churn are deterministic from the seed */
  seed?: number;
  /** default 0 (no background churn) */
  churnPerSec?: number;
  /** user status changes per second (calls, breaks, log-ins: status-churn.ts), default 0 */
  statusChurnPerSec?: number;
  /** feature "messaging"; 2 = SSE available. default 2 */
  messagingVersion?: 1 | 2;
  /** feature "configuration", default 16 */
  configurationVersion?: number;
  /** accepted credentials, default icwatch/icwatch */
  user?: string;
  password?: string;
  /** an account whose writes get 403, default viewer/viewer */
  readOnlyUser?: string;
  readOnlyPassword?: string;
  /**
   * Named rights a subscription's rightsFilter may give besides view, admin and loggedInUser; any other name is
   * refused with 400, as a server takes only the values it lists (docs/icws.md "Subscription"). Default
   * canMonitorQueues.
   */
  namedRights?: string[];
  /** default "ic-sim-1" */
  icServer?: string;
  /** sent in the connect body and in 503 answers */
  alternateHostList?: string[];
  /** a backup server: every connect gets 503 with alternateHostList */
  notAcceptingConnections?: boolean;
  /** daysUntilPasswordExpiration of the login answer (real servers send it), default 90; null = not sent */
  passwordExpiryDays?: number | null;
  /** HTTPS with a private CA and a server certificate generated at start (tls.ts), default false */
  tls?: boolean;
  /**
   * The status of a refused login: 400, as real servers answer (default), or 401, the tidy variant simulators
   * answer; both carry errorId error.request.connection.authenticationFailure (docs/icws.md "Errors").
   */
  refusedLoginStatus?: 400 | 401;
  /** ':' comment pings on SSE streams, default 15000 */
  ssePingMs?: number;
  /** per session queue bound, default 100000 */
  maxQueuedMessages?: number;
  /** `retry:` announced on SSE streams, default 3000 */
  sseRetryMs?: number;
  /** largest request body accepted, default 10 MiB */
  maxBodyBytes?: number;
  /** a session without requests (and without an open stream) this long is forgotten, default 300000 */
  sessionIdleMs?: number;
  /** request records kept (the oldest are dropped), default 10000 */
  maxRecordedRequests?: number;
  logger?: Logger;
}

export type ResolvedOptions = Required<Omit<SimulatorOptions, 'logger'>>;

export function resolveOptions(o: SimulatorOptions): ResolvedOptions {
  return {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    users: o.users ?? 200,
    seed: o.seed ?? 1,
    churnPerSec: o.churnPerSec ?? 0,
    statusChurnPerSec: o.statusChurnPerSec ?? 0,
    messagingVersion: o.messagingVersion ?? 2,
    configurationVersion: o.configurationVersion ?? 16,
    user: o.user ?? 'icwatch',
    password: o.password ?? 'icwatch',
    readOnlyUser: o.readOnlyUser ?? 'viewer',
    readOnlyPassword: o.readOnlyPassword ?? 'viewer',
    namedRights: o.namedRights ?? ['canMonitorQueues'],
    icServer: o.icServer ?? 'ic-sim-1',
    alternateHostList: o.alternateHostList ?? [],
    notAcceptingConnections: o.notAcceptingConnections ?? false,
    passwordExpiryDays: o.passwordExpiryDays === undefined ? 90 : o.passwordExpiryDays,
    tls: o.tls ?? false,
    refusedLoginStatus: o.refusedLoginStatus ?? 400,
    ssePingMs: o.ssePingMs ?? 15000,
    maxQueuedMessages: o.maxQueuedMessages ?? 100000,
    sseRetryMs: o.sseRetryMs ?? 3000,
    maxBodyBytes: o.maxBodyBytes ?? 10 * 1024 * 1024,
    maxRecordedRequests: o.maxRecordedRequests ?? 10000,
    sessionIdleMs: o.sessionIdleMs ?? 300000,
  };
}

export interface RequestRecord {
  method: string;
  /** The path as requested, ids included (no query). */
  path: string;
  /** The route template, e.g. /icws/{sessionId}/messaging/messages. */
  route: string;
  /** The route's short name, as faults use it: connect, messages, subscription… */
  name: string;
  /** The answer's status; 0 while unanswered or when the socket was dropped. */
  status: number;
  /** ms since the epoch, at arrival. */
  at: number;
}

/** One PUT of the user-statuses subscription, as received (tests check that every PUT carries the whole list). */
export interface StatusSubscriptionPut {
  sessionId: string;
  userIds: string[];
  /** The answer: 200, or 400/404 for a list refused. */
  status: number;
  /** ms since the epoch. */
  at: number;
}
/** PUTs of the user-statuses subscription remembered (the oldest are dropped): each may list every user. */
const MAX_STATUS_SUBSCRIPTION_PUTS = 50;

export class SimulatorState {
  readonly options: ResolvedOptions;
  readonly log: Logger;
  readonly directory: Directory;
  /** Users' JSON per subscribed view, for full replaces. */
  private readonly texts: UserTexts;
  readonly sessions: SessionStore;
  readonly faults = new FaultTable();
  readonly mailboxes: Map<string, Map<string, MonitoredMailbox>> = initialMailboxes();
  readonly churn: Churn;
  /** Every user's status (docs/icws.md "User statuses"), and its churn. */
  readonly presence: Presence;
  readonly statusChurn: StatusChurn;
  readonly statusSubscriptionPuts: StatusSubscriptionPut[] = [];
  readonly requests: RequestRecord[] = [];
  /** options.refusedLoginStatus, changeable at run time through the control API. */
  refusedLoginStatus: 400 | 401;
  /** options.passwordExpiryDays, changeable at run time through the control API. */
  passwordExpiryDays: number | null;
  /**
   * Users the service account no longer sees (the control API hides them, as a change of its rights or of the
   * rightsFilter would): left out of full replaces and deltas, still in the directory.
   */
  readonly hidden = new Set<string>();
  readonly visible = (id: string): boolean => !this.hidden.has(id);

  constructor(options: SimulatorOptions) {
    this.options = resolveOptions(options);
    this.refusedLoginStatus = this.options.refusedLoginStatus;
    this.passwordExpiryDays = this.options.passwordExpiryDays;
    this.log = options.logger ?? silentLogger();
    this.directory = new Directory(generateUsers(this.options.users, this.options.seed, { configurationVersion: this.options.configurationVersion }));
    this.texts = new UserTexts(this.directory);
    this.sessions = new SessionStore(this.options.maxQueuedMessages, this.log);
    this.churn = new Churn(this.directory, this.options.seed, { configurationVersion: this.options.configurationVersion });
    this.presence = new Presence(this.directory, this.options.seed, this.options.icServer);
    this.statusChurn = new StatusChurn(this.presence, this.options.seed, this.options.icServer);
    this.presence.onChange((deltas) => {
      for (const session of this.sessions.all()) {
        const ids = session.userStatuses;
        if (session.down || !ids) continue;
        const userStatusList = deltas.filter((d) => ids.has(d.userId));
        if (!userStatusList.length) continue;
        const message: UserStatusMessage = { __type: USER_STATUS_MESSAGE, isDelta: true, userStatusList };
        this.sessions.enqueue(session, JSON.stringify(message));
      }
    });
    this.directory.onDelta((delta, lost) => {
      if (lost) return;
      for (const session of this.sessions.all()) {
        if (session.down) continue;
        for (const s of session.subscriptions.values()) {
          const message = deltaFor(s, delta, this.visible);
          if (message) this.sessions.enqueue(session, JSON.stringify(message));
        }
      }
    });
  }

  /** Queue the subscription's full replace (its first message, or a forced one). */
  queueFullReplace(session: Session, subscriptionId: string): void {
    const s = session.subscriptions.get(subscriptionId);
    if (s) this.sessions.enqueue(session, fullReplace(s, this.directory, this.texts, this.visible));
  }

  /** The user-statuses subscription's first message after each PUT: the status of every listed user (isDelta false). */
  queueStatusReplace(session: Session): void {
    const ids = session.userStatuses;
    if (!ids) return;
    const userStatusList = [];
    for (const id of ids) {
      const s = this.presence.peek(id);
      if (s) userStatusList.push(s);
    }
    const message: UserStatusMessage = { __type: USER_STATUS_MESSAGE, isDelta: false, userStatusList };
    this.sessions.enqueue(session, JSON.stringify(message));
  }

  recordStatusPut(put: StatusSubscriptionPut): void {
    this.statusSubscriptionPuts.push(put);
    if (this.statusSubscriptionPuts.length > MAX_STATUS_SUBSCRIPTION_PUTS) this.statusSubscriptionPuts.shift();
  }

  record(r: RequestRecord): void {
    this.requests.push(r);
    if (this.requests.length > this.options.maxRecordedRequests) this.requests.splice(0, this.requests.length - this.options.maxRecordedRequests);
  }

  /** A deep copy of every user (the truth, no nulls). */
  users(): User[] {
    return structuredClone([...this.directory.values()]);
  }
}
