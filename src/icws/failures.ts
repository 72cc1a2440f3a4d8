/**
 * The one classification of ICWS failures (docs/icws.md "Errors"), by request and status first, body second:
 * - only the connect request can mean "bad credentials": 400 or 401 with errorId
 *   error.request.connection.authenticationFailure, or errorCode -2147221503 (servers older than CIC 4.0 SU6), and
 *   any 401 on connect (what tidy simulators answer);
 * - any 401 on a request of an established session means the session is gone, whatever its errorId (real servers
 *   send the same authenticationFailure errorId with errorCode -2147221499, or errorCode 1 / 2): log in again;
 * - 410 is fatal (the API removed the resource), 503 on connect names the hosts to try, anything else is retried.
 * `errorFor` turns an answer into the typed error; `classify` turns any failure into why a session ended;
 * `nextLoginDelay` says how long to wait before logging in again.
 */
import type { Backoff, BackoffOptions } from '../util/backoff.js';
import {
  IcwsAuthenticationError,
  IcwsError,
  IcwsGoneError,
  IcwsNetworkError,
  IcwsRedirectError,
  IcwsUnauthorizedError,
  IcwsUnavailableError,
} from './errors.js';

export const AUTHENTICATION_FAILURE = 'error.request.connection.authenticationFailure';
/** errorCode of a refused login on servers that send no errorId. */
export const REFUSED_LOGIN_ERROR_CODE = -2147221503;

/** Which request failed: the login, or a request of an established session (under /icws/{sessionId}/). */
export type RequestKind = 'connect' | 'session';

/** The typed error for a non-success answer. `resource`: the path under /icws/{sessionId}/, for 410's message. */
export function errorFor(status: number, route: string, body: unknown, text: string, request: RequestKind, resource?: string): IcwsError {
  const b = (body && typeof body === 'object' ? body : {}) as { errorId?: unknown; errorCode?: unknown; message?: unknown; alternateHostList?: unknown };
  const errorId = typeof b.errorId === 'string' ? b.errorId : undefined;
  const message = typeof b.message === 'string' ? b.message : text.slice(0, 200) || `HTTP ${status}`;
  if (request === 'connect') {
    const refused = errorId === AUTHENTICATION_FAILURE || b.errorCode === REFUSED_LOGIN_ERROR_CODE;
    if ((status === 400 && refused) || status === 401) return new IcwsAuthenticationError(status, route, errorId, message, body);
    if (status === 503) {
      const hosts = Array.isArray(b.alternateHostList) ? b.alternateHostList.filter((h): h is string => typeof h === 'string') : [];
      return new IcwsUnavailableError(status, route, errorId, message, hosts, body);
    }
  } else if (status === 401) {
    return new IcwsUnauthorizedError(status, route, errorId, typeof b.message === 'string' ? b.message : '', body);
  }
  if (status === 410) return new IcwsGoneError(status, route, errorId, message, body, resource);
  return new IcwsError(status, route, errorId, message, body);
}

/** Errors that end the session's transport instead of being retried: the session is gone (401) or the API is (410). */
export function endsSession(err: unknown): err is IcwsError {
  return err instanceof IcwsUnauthorizedError || err instanceof IcwsGoneError;
}

/**
 * Why the server put a session down: connectionStateChangeMessage.reason takes IceLib's ConnectionStateReason names
 * (docs/icws.md "Real sites"). They are the reason label as they are; any other reason counts as 'other' (a bounded
 * label set), and a down message without one as 'connection-down'.
 */
export const DOWN_REASONS = [
  'AdminLogOff',
  'UserDeleted',
  'StationDeleted',
  'StationDeactivated',
  'AnotherLogOn',
  'UserLogOff',
  'SessionTimeout',
  'Switchover',
  'ServerNotResponding',
] as const;
export type DownReason = (typeof DOWN_REASONS)[number];

export type ReconnectReason = 'unauthorized' | 'connection-down' | DownReason | 'other' | 'network' | 'server-error' | 'switchover' | 'auth-failure';

/** The reconnect reason of a connectionStateChangeMessage saying down, from its `reason`. */
export function downReason(reason: string | undefined): ReconnectReason {
  if (!reason) return 'connection-down';
  return (DOWN_REASONS as readonly string[]).includes(reason) ? (reason as DownReason) : 'other';
}

const SESSION_GONE: ReadonlySet<ReconnectReason> = new Set<ReconnectReason>(['unauthorized', 'connection-down', 'other', ...DOWN_REASONS]);

/**
 * Why a session ended or a login failed: the `reason` label of icwatch_icws_reconnects_total, a short description
 * for the session state (/readyz shows it) and the detail for the log.
 */
export interface SessionEnd {
  reason: ReconnectReason;
  description: string;
  detail: string;
  /** Only the operator can end it (a redirect: icws.url is wrong): logged as an error on every attempt. */
  operatorMustFix?: boolean;
}

/** The session is gone but the credentials are fine: log in again at once. */
export const sessionGone = (end: SessionEnd): boolean => SESSION_GONE.has(end.reason);

export function classify(err: unknown): SessionEnd {
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof IcwsAuthenticationError) return { reason: 'auth-failure', description: 'authentication failed', detail };
  if (err instanceof IcwsUnauthorizedError) return { reason: 'unauthorized', description: 'session expired', detail };
  if (err instanceof IcwsUnavailableError) return { reason: 'switchover', description: 'no server accepting connections', detail };
  if (err instanceof IcwsNetworkError) return { reason: 'network', description: 'network failure', detail };
  // A redirect is retried with the backoff rather than fatal: a load balancer's maintenance redirect passes by itself.
  if (err instanceof IcwsRedirectError) return { reason: 'server-error', description: `redirected (${err.status})`, detail, operatorMustFix: true };
  if (err instanceof IcwsError) return { reason: 'server-error', description: `server error ${err.status}`, detail };
  return { reason: 'network', description: 'unexpected failure', detail: err instanceof Error && err.stack ? err.stack : detail };
}

/**
 * How long to wait before the next login (docs/icws.md "Errors"). Refused credentials: at least
 * icws.backoff.maxMs, never sooner (accounts lock out). A session that was working and is gone (401, connection
 * down): at once, since the credentials are fine; but only when that session had delivered its full replace (the
 * backoff was reset), so that a server which kills every new session is still met with backoff. Anything else: the
 * normal backoff.
 */
export function nextLoginDelay(end: SessionEnd, wasUp: boolean, backoff: Backoff, options: BackoffOptions): number {
  if (end.reason === 'auth-failure') {
    backoff.longest();
    return options.maxMs + Math.round(options.maxMs * options.jitter * Math.random() * 0.1);
  }
  if (wasUp && sessionGone(end) && backoff.attempts === 0) {
    backoff.next(); // a second loss before the next full replace backs off
    return 0;
  }
  return backoff.next();
}
