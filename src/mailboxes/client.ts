/**
 * POST /icws/{sessionId}/configuration/workgroups/{id}/monitored-mailboxes: sends one bulk update and turns the
 * answer into a typed outcome. A 401 (session expired) logs in again and retries once: the server refused the
 * request before applying it, so the retry cannot apply it twice. Other failures are not retried, since an `add`
 * sent twice is not harmless. 410 and network failures are thrown (IcwsGoneError, IcwsNetworkError).
 */
import type { Logger } from '../log/logger.js';
import type { IcwsConnection } from '../icws/connection.js';
import { IcwsError, IcwsUnauthorizedError } from '../icws/errors.js';
import type { BulkUpdateOutcome, ConfigurationId, LicenseError, MonitoredMailboxesBulkUpdate, SubObject, ValidationError } from './types.js';

export const MAILBOXES_ROUTE = 'POST monitored-mailboxes';

/** The resource path under /icws/{sessionId}. */
export function monitoredMailboxesPath(workgroupId: string): string {
  return `/configuration/workgroups/${encodeURIComponent(workgroupId)}/monitored-mailboxes`;
}

export interface BulkUpdateOptions {
  /** Logs in again after a 401 (the command's login, with its alternate-host handling). */
  relogin: () => Promise<unknown>;
  logger?: Logger;
}

export async function bulkUpdateMonitoredMailboxes(
  connection: IcwsConnection,
  workgroupId: string,
  body: MonitoredMailboxesBulkUpdate,
  options: BulkUpdateOptions,
): Promise<BulkUpdateOutcome> {
  try {
    return await postOnce(connection, workgroupId, body);
  } catch (err) {
    if (!(err instanceof IcwsUnauthorizedError)) throw err;
    options.logger?.warn('ICWS session expired (401); logging in again and retrying once', { route: MAILBOXES_ROUTE });
    connection.forget();
    await options.relogin();
    return await postOnce(connection, workgroupId, body);
  }
}

async function postOnce(connection: IcwsConnection, workgroupId: string, body: MonitoredMailboxesBulkUpdate): Promise<BulkUpdateOutcome> {
  try {
    const res = await connection.request<unknown>('POST', monitoredMailboxesPath(workgroupId), { route: MAILBOXES_ROUTE, json: body });
    return { kind: 'updated', subObjects: subObjects(res.body) };
  } catch (err) {
    if (!(err instanceof IcwsError) || err.status === 0 || err.status === 401 || err.status === 410) throw err;
    return outcomeOfError(err);
  }
}

/** A refusal as an outcome: 400 configurationError keeps its validation and license errors. */
export function outcomeOfError(err: IcwsError): BulkUpdateOutcome {
  const b = (typeof err.body === 'object' && err.body !== null ? err.body : {}) as Record<string, unknown>;
  const errorId = err.errorId;
  const message = err.serverMessage;
  if (err.status === 400 && (Array.isArray(b.validationErrors) || Array.isArray(b.licenseErrors))) {
    return {
      kind: 'rejected',
      status: 400,
      ...(errorId ? { errorId } : {}),
      message,
      validationErrors: list(b.validationErrors).map(validationError),
      licenseErrors: list(b.licenseErrors).map(licenseError),
    };
  }
  return { kind: 'refused', status: err.status, ...(errorId ? { errorId } : {}), message };
}

/** The 200 answer, read defensively: entries without an id are kept with a visible placeholder. */
function subObjects(body: unknown): SubObject[] {
  const raw = typeof body === 'object' && body !== null ? (body as { subObjects?: unknown }).subObjects : undefined;
  return list(raw).map((o) => {
    const e = (typeof o === 'object' && o !== null ? o : {}) as Record<string, unknown>;
    const out: SubObject = { id: printable(e.id, '(no id)') };
    if (typeof e.uri === 'string') out.uri = e.uri;
    if (Array.isArray(e.licenseProblems)) {
      out.licenseProblems = e.licenseProblems.map((p) => {
        const lp = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
        return { license: licenseOf(lp.license), licenseErrorType: Number(lp.licenseErrorType) };
      });
    }
    return out;
  });
}

function validationError(v: unknown): ValidationError {
  const e = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  return {
    validationErrorType: Number(e.validationErrorType),
    propertyName: printable(e.propertyName),
    propertyValue: printable(e.propertyValue),
  };
}

/** A value from the server's answer (parsed JSON) as text: a string as it is, anything else as JSON, absent as `fallback`. */
function printable(v: unknown, fallback = ''): string {
  if (v === undefined || v === null) return fallback;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function licenseError(v: unknown): LicenseError {
  const e = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  return { licenseErrorType: Number(e.licenseErrorType), license: licenseOf(e.license) };
}

/** A license as the server named it: its ConfigurationId (the usual form), or a bare id. */
function licenseOf(value: unknown): ConfigurationId | string {
  if (typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string') {
    const v = value as { id: string; displayName?: unknown; uri?: unknown };
    return { id: v.id, ...(typeof v.displayName === 'string' ? { displayName: v.displayName } : {}), ...(typeof v.uri === 'string' ? { uri: v.uri } : {}) };
  }
  return typeof value === 'string' ? value : '';
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
