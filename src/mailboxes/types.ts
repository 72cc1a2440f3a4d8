/** The wire shapes of POST …/configuration/workgroups/{id}/monitored-mailboxes (docs/icws.md "Monitored mailboxes"). */
import type { ConfigurationId } from '../icws/messages.js';

export type { ConfigurationId };

/** The representation's type name: accepted back in input files, never sent (the request carries no __type). */
export const BULK_UPDATE_TYPE = 'urn:inin.com:configuration.people:monitoredMailboxesBulkUpdate';
export const CONFIGURATION_ERROR_TYPE = 'urn:inin.com:configuration:configurationError';

export interface MonitoredMailbox {
  configurationId?: ConfigurationId;
  canReceiveEncryptedEmail?: boolean | null;
  emailAddress?: string;
  inboundFolder?: string | null;
  mailboxMoniker?: string;
  /** 0 inbound, 1 outbound, 2 outboundAndInbound. */
  mailboxType?: number;
}

/** The request body, in the order the server documents it: no __type, and an empty list is left out. */
export interface MonitoredMailboxesBulkUpdate {
  add?: MonitoredMailbox[];
  modify?: MonitoredMailbox[];
  remove?: string[];
}

/** `license` is a ConfigurationId on the wire; kept as given (a bare id string from an odd server too). */
export interface LicenseProblem {
  license: ConfigurationId | string;
  licenseErrorType: number;
}

export interface SubObject {
  id: string;
  uri?: string;
  licenseProblems?: LicenseProblem[];
}

/** 200: the ids the update touched, with license warnings. */
export interface SubObjectSet {
  subObjects: SubObject[];
}

export interface ValidationError {
  validationErrorType: number;
  propertyName: string;
  propertyValue: string;
}

export interface LicenseError {
  licenseErrorType: number;
  license: ConfigurationId | string;
}

/** 400 error.request.configuration.update. */
export interface ConfigurationErrorBody {
  __type?: typeof CONFIGURATION_ERROR_TYPE;
  errorId?: string;
  message: string;
  validationErrors: ValidationError[];
  licenseErrors: LicenseError[];
}

/** What one bulk update came to; the command prints it and picks the exit code from `kind`. */
export type BulkUpdateOutcome =
  | { kind: 'updated'; subObjects: SubObject[] }
  /** 400 configurationError: validation and license errors. */
  | { kind: 'rejected'; status: 400; errorId?: string; message: string; validationErrors: ValidationError[]; licenseErrors: LicenseError[] }
  /** Any other refusal: a plain 400 (malformed), 403, 404, 5xx. */
  | { kind: 'refused'; status: number; errorId?: string; message: string };
