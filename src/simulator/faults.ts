/**
 * Injected faults: each matches requests by route name and method, answers `count` of them with a status, a
 * delay or a dropped socket, then is used up. Checked before authentication, like a failing proxy or server.
 */

/** The route names faults and request records use. */
export type RouteName =
  | 'connect'
  | 'features'
  | 'version'
  | 'server-info'
  | 'connection'
  | 'switchover-status'
  | 'messages'
  | 'heartbeat'
  | 'subscription'
  | 'mailboxes'
  | 'status'
  | 'user-statuses'
  | 'status-messages'
  | 'set-status'
  | 'unknown';
export const FAULT_ROUTES: readonly string[] = [
  'connect',
  'features',
  'version',
  'server-info',
  'connection',
  'switchover-status',
  'messages',
  'heartbeat',
  'subscription',
  'mailboxes',
  'status',
  'user-statuses',
  'status-messages',
  'set-status',
  'unknown',
];

export interface Fault {
  /** e.g. 500, 503, 410, 401. */
  status?: number;
  /** Default per status (error.request.internalServerError for 500 …; a 401 gets the real invalid-session body). */
  errorId?: string;
  /** The body's errorCode, e.g. 1 or 2 on a 401 (docs/icws.md "Errors"). */
  errorCode?: number;
  /** Answer the status without any body (a bare 401). */
  emptyBody?: boolean;
  message?: string;
  /** How many matching requests (default 1; Infinity allowed). */
  count?: number;
  /** 'connect' | 'messages' | 'subscription' | 'mailboxes' | 'status' | 'connection' | 'features'; undefined = any. */
  route?: string;
  method?: string;
  /** Answer late (for timeouts); with no status (and no drop) the request then proceeds normally. */
  delayMs?: number;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /** With status 503 on connect. */
  alternateHostList?: string[];
}

/** Checks a Fault given over the control API; returns the problem, or undefined when it is usable. */
export function faultProblem(f: unknown): string | undefined {
  if (f === null || typeof f !== 'object' || Array.isArray(f)) return 'a fault is a JSON object';
  const x = f as Record<string, unknown>;
  if (x.status !== undefined && (!Number.isInteger(x.status) || (x.status as number) < 100 || (x.status as number) > 599))
    return 'status must be an HTTP status (100-599)';
  if (x.count !== undefined && x.count !== null && !(x.count === Infinity || (Number.isInteger(x.count) && (x.count as number) > 0))) {
    return 'count must be a positive whole number (or null for unlimited)';
  }
  if (x.route !== undefined && !FAULT_ROUTES.includes(x.route as string)) return `route must be one of ${FAULT_ROUTES.join(', ')}`;
  if (x.method !== undefined && typeof x.method !== 'string') return 'method must be a string';
  if (x.errorCode !== undefined && !Number.isInteger(x.errorCode)) return 'errorCode must be a whole number';
  if (x.emptyBody !== undefined && typeof x.emptyBody !== 'boolean') return 'emptyBody must be a boolean';
  if (x.delayMs !== undefined && (typeof x.delayMs !== 'number' || x.delayMs < 0 || !Number.isFinite(x.delayMs))) return 'delayMs must be a number ≥ 0';
  if (x.drop !== undefined && typeof x.drop !== 'boolean') return 'drop must be a boolean';
  if (x.alternateHostList !== undefined && (!Array.isArray(x.alternateHostList) || x.alternateHostList.some((h) => typeof h !== 'string'))) {
    return 'alternateHostList must be a list of host names';
  }
  if (x.status === undefined && x.delayMs === undefined && !x.drop) return 'a fault needs status, delayMs or drop';
  return undefined;
}

export class FaultTable {
  private faults: { fault: Fault; left: number }[] = [];

  add(fault: Fault): void {
    this.faults.push({ fault: { ...fault }, left: fault.count ?? 1 });
  }

  clear(): void {
    this.faults = [];
  }

  /** The first fault matching this request, used once; undefined when none. */
  take(route: RouteName, method: string): Fault | undefined {
    const i = this.faults.findIndex(({ fault }) => (!fault.route || fault.route === route) && (!fault.method || fault.method.toUpperCase() === method));
    if (i < 0) return undefined;
    const entry = this.faults[i]!;
    entry.left--;
    if (entry.left <= 0) this.faults.splice(i, 1);
    return entry.fault;
  }

  get size(): number {
    return this.faults.length;
  }
}
