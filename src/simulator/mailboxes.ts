/**
 * Monitored mailboxes of the generated workgroups and the bulk update
 * (POST /icws/{sessionId}/configuration/workgroups/{id}/monitored-mailboxes, docs/icws.md "Monitored mailboxes").
 * Every error of a request is reported and nothing is applied unless the whole request is valid.
 */
import type { ConfigurationId } from '../icws/messages.js';
import { BULK_UPDATE_TYPE, CONFIGURATION_ERROR_TYPE } from '../mailboxes/types.js';
import type { ErrorBody } from './http.js';
import { WORKGROUP_IDS } from './users.js';

/** validationErrorType values the simulator reports (names as on the vendor's reference page). */
export const VALIDATION = {
  uniqueInstanceId: 1,
  existingInstanceId: 2,
  requiredValue: 4,
  validValues: 9,
  validFormat: 13,
  propertyNotApplicable: 31,
  invalidMailboxFolder: 32,
} as const;
/** A workgroup monitoring more than this many mailboxes gets a setWarningExceedsThreshold license problem. */
export const MAILBOX_LICENSE_THRESHOLD = 5;
/** Past this many, the license cannot be set: 400 with a setErrorExceedsThreshold license error, nothing applied. */
export const MAILBOX_LICENSE_LIMIT = 8;
/** The license the mailboxes use, as servers name licenses: a ConfigurationId. */
export const MAILBOX_LICENSE: ConfigurationId = {
  id: 'I3_ACCESS_ACD_EMAIL',
  displayName: 'Interaction ACD Email',
  uri: '/configuration/license-allocations/I3_ACCESS_ACD_EMAIL',
};

export interface MonitoredMailbox {
  configurationId: ConfigurationId;
  emailAddress: string;
  mailboxMoniker: string;
  inboundFolder?: string;
  /** 0 inbound, 1 outbound, 2 outboundAndInbound. */
  mailboxType: 0 | 1 | 2;
  canReceiveEncryptedEmail: boolean;
}

const FOLDERS = ['Inbox', 'Inbox/Shared', 'Inbox/Escalated', 'Archive'];
const lower = (wg: string) => wg.toLowerCase();

/** Known mailbox monikers, each with the folders that exist in it: the workgroups' own and a few spare ones for adds. */
const moniker = (id: string, folders: readonly string[]): [string, readonly string[]] => [id, folders];
export const MAILBOX_MONIKERS: Readonly<Record<string, readonly string[]>> = Object.fromEntries([
  ...WORKGROUP_IDS.flatMap((wg) => [
    moniker(`ews:${lower(wg)}@example.com`, FOLDERS),
    moniker(`ews:${lower(wg)}-out@example.com`, ['Sent Items']),
    moniker(`ews:${lower(wg)}-shared@example.com`, FOLDERS),
  ]),
  moniker('ews:info@example.com', ['Inbox', 'Inbox/Web', 'Archive']),
  moniker('ews:orders@example.com', ['Inbox', 'Inbox/New', 'Inbox/Priority']),
  moniker('imap:helpdesk@example.com', ['INBOX', 'INBOX.Triage']),
]);

/** The id a mailbox added without configurationId gets. */
export function mailboxIdFor(emailAddress: string): string {
  return emailAddress.trim().toLowerCase();
}

const mailboxUri = (workgroupId: string, id: string) => `/configuration/workgroups/${workgroupId}/monitored-mailboxes/${encodeURIComponent(id)}`;

function mailbox(wg: string, email: string, type: 0 | 1 | 2, folder?: string): MonitoredMailbox {
  const id = mailboxIdFor(email);
  const m: MonitoredMailbox = {
    configurationId: { id, displayName: email, uri: mailboxUri(wg, id) },
    emailAddress: email,
    mailboxMoniker: `ews:${email}`,
    mailboxType: type,
    canReceiveEncryptedEmail: false,
  };
  if (folder) m.inboundFolder = folder;
  return m;
}

/** The mailboxes each generated workgroup monitors at start (two or three, under the license threshold). */
export function initialMailboxes(): Map<string, Map<string, MonitoredMailbox>> {
  const out = new Map<string, Map<string, MonitoredMailbox>>();
  WORKGROUP_IDS.forEach((wg, i) => {
    const list = [mailbox(wg, `${lower(wg)}@example.com`, 0, 'Inbox'), mailbox(wg, `${lower(wg)}-out@example.com`, 1)];
    if (i % 2 === 0) list.push(mailbox(wg, `${lower(wg)}-shared@example.com`, 2, 'Inbox/Shared'));
    out.set(wg, new Map(list.map((m) => [m.configurationId.id, m])));
  });
  return out;
}

export interface ValidationError {
  validationErrorType: number;
  propertyName: string;
  propertyValue: string;
}
export type BulkResult = { status: number; body: unknown };

const malformed = (message: string): BulkResult => ({
  status: 400,
  body: { errorId: 'error.request.invalidRepresentation.malformed', message } satisfies ErrorBody,
});
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const shown = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

function entryId(entry: Record<string, unknown>): string | undefined {
  const c = entry.configurationId;
  if (typeof c === 'string') return c;
  return isObject(c) && typeof c.id === 'string' && c.id !== '' ? c.id : undefined;
}

/** Checks one mailbox as it would stand after the update; pushes every problem. */
function checkMailbox(m: Record<string, unknown>, errors: ValidationError[]): void {
  for (const field of ['emailAddress', 'mailboxMoniker']) {
    const v = m[field];
    if (v === undefined || v === null || v === '') errors.push({ validationErrorType: VALIDATION.requiredValue, propertyName: field, propertyValue: '' });
    else if (typeof v !== 'string') errors.push({ validationErrorType: VALIDATION.validFormat, propertyName: field, propertyValue: shown(v) });
  }
  if (typeof m.emailAddress === 'string' && m.emailAddress !== '' && !/^[^@\s]+@[^@\s]+$/.test(m.emailAddress)) {
    errors.push({ validationErrorType: VALIDATION.validFormat, propertyName: 'emailAddress', propertyValue: m.emailAddress });
  }
  const type = m.mailboxType;
  const typeOk = type === 0 || type === 1 || type === 2;
  if (!typeOk) errors.push({ validationErrorType: VALIDATION.validValues, propertyName: 'mailboxType', propertyValue: shown(type) });
  if (m.canReceiveEncryptedEmail !== undefined && typeof m.canReceiveEncryptedEmail !== 'boolean') {
    errors.push({ validationErrorType: VALIDATION.validValues, propertyName: 'canReceiveEncryptedEmail', propertyValue: shown(m.canReceiveEncryptedEmail) });
  }
  const folder = m.inboundFolder;
  if (folder === undefined || folder === null || !typeOk) return;
  if (type === 1) {
    errors.push({ validationErrorType: VALIDATION.propertyNotApplicable, propertyName: 'inboundFolder', propertyValue: shown(folder) });
    return;
  }
  const folders = typeof m.mailboxMoniker === 'string' ? MAILBOX_MONIKERS[m.mailboxMoniker] : undefined;
  if (typeof folder !== 'string' || !folders?.includes(folder)) {
    errors.push({ validationErrorType: VALIDATION.invalidMailboxFolder, propertyName: 'inboundFolder', propertyValue: shown(folder) });
  }
}

/** The stored form of a checked mailbox: nulls mean defaults (canReceiveEncryptedEmail false, no inboundFolder). */
function normalize(workgroupId: string, id: string, m: Record<string, unknown>): MonitoredMailbox {
  const out: MonitoredMailbox = {
    configurationId: {
      id,
      displayName:
        (isObject(m.configurationId) && typeof m.configurationId.displayName === 'string' && m.configurationId.displayName) || (m.emailAddress as string),
      uri: mailboxUri(workgroupId, id),
    },
    emailAddress: m.emailAddress as string,
    mailboxMoniker: m.mailboxMoniker as string,
    mailboxType: m.mailboxType as 0 | 1 | 2,
    canReceiveEncryptedEmail: m.canReceiveEncryptedEmail === true,
  };
  if (typeof m.inboundFolder === 'string') out.inboundFolder = m.inboundFolder;
  return out;
}

/** Applies a bulk update to one workgroup's mailboxes (already known to exist), or reports why not. */
export function bulkUpdate(workgroupId: string, mailboxes: Map<string, MonitoredMailbox>, body: unknown): BulkResult {
  if (!isObject(body)) return malformed('The request representation object was malformed: expected a JSON object.');
  if (body.__type !== undefined && body.__type !== BULK_UPDATE_TYPE)
    return malformed(`The request representation object was malformed: __type must be "${BULK_UPDATE_TYPE}".`);
  for (const list of ['add', 'modify'] as const) {
    const v = body[list];
    if (v !== undefined && v !== null && (!Array.isArray(v) || !v.every(isObject)))
      return malformed(`The request representation object was malformed: "${list}" must be a list of monitoredMailbox objects.`);
  }
  const remove = body.remove;
  if (remove !== undefined && remove !== null && (!Array.isArray(remove) || !remove.every((r) => typeof r === 'string'))) {
    return malformed('The request representation object was malformed: "remove" must be a list of ids.');
  }
  const add = (body.add ?? []) as Record<string, unknown>[];
  const modify = (body.modify ?? []) as Record<string, unknown>[];
  const removeIds = remove ?? [];

  const errors: ValidationError[] = [];
  const next = new Map(mailboxes);
  const touched: string[] = [];
  for (const id of removeIds) {
    if (!next.delete(id)) errors.push({ validationErrorType: VALIDATION.existingInstanceId, propertyName: 'remove', propertyValue: id });
  }
  for (const entry of modify) {
    const id = entryId(entry);
    const current = id === undefined ? undefined : mailboxes.get(id);
    if (!current || id === undefined) {
      errors.push(
        id === undefined
          ? { validationErrorType: VALIDATION.requiredValue, propertyName: 'configurationId', propertyValue: '' }
          : { validationErrorType: VALIDATION.existingInstanceId, propertyName: 'configurationId', propertyValue: id },
      );
      continue;
    }
    const merged: Record<string, unknown> = { ...current };
    for (const [k, v] of Object.entries(entry)) if (k !== 'configurationId') merged[k] = v === null && k === 'canReceiveEncryptedEmail' ? false : v;
    checkMailbox(merged, errors);
    next.set(id, normalize(workgroupId, id, merged));
    touched.push(id);
  }
  for (const entry of add) {
    const merged: Record<string, unknown> = { mailboxType: 0, canReceiveEncryptedEmail: false, ...entry };
    if (merged.mailboxType === null) merged.mailboxType = 0;
    const before = errors.length;
    checkMailbox(merged, errors);
    if (errors.length > before) continue;
    const id = entryId(entry) ?? mailboxIdFor(entry.emailAddress as string);
    if (next.has(id)) {
      errors.push({ validationErrorType: VALIDATION.uniqueInstanceId, propertyName: 'configurationId', propertyValue: id });
      continue;
    }
    next.set(id, normalize(workgroupId, id, merged));
    touched.push(id);
  }
  const licenseErrors = errors.length === 0 && next.size > MAILBOX_LICENSE_LIMIT ? [{ licenseErrorType: 2, license: MAILBOX_LICENSE }] : [];
  if (errors.length || licenseErrors.length) {
    return {
      status: 400,
      body: {
        __type: CONFIGURATION_ERROR_TYPE,
        errorId: 'error.request.configuration.update',
        message: `The request has one or more license or validation errors in it (${errors.length} validation error${errors.length === 1 ? '' : 's'}, ${licenseErrors.length} license error${licenseErrors.length === 1 ? '' : 's'}).`,
        validationErrors: errors,
        licenseErrors,
      },
    };
  }
  mailboxes.clear();
  for (const [id, m] of next) mailboxes.set(id, m);
  const overThreshold = mailboxes.size > MAILBOX_LICENSE_THRESHOLD;
  return {
    status: 200,
    body: {
      subObjects: touched.map((id) => ({
        id,
        uri: mailboxUri(workgroupId, id),
        ...(overThreshold ? { licenseProblems: [{ license: MAILBOX_LICENSE, licenseErrorType: 1 }] } : {}),
      })),
    },
  };
}
