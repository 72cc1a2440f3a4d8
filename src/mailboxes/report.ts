/**
 * What `icwatch mailboxes` prints: the updated ids as a small table, and refusals spelled out with the enum names
 * and meanings of the reference page, so an administrator sees exactly what the server refused and why.
 */
import { LICENSE_ERROR_TYPES, VALIDATION_ERROR_TYPES, lookup, type EnumEntry } from './enums.js';
import type { MailboxInputError } from './input.js';
import type { BulkUpdateOutcome, ConfigurationId, LicenseProblem, SubObject } from './types.js';

type Rejected = Extract<BulkUpdateOutcome, { kind: 'rejected' }>;
type Refused = Extract<BulkUpdateOutcome, { kind: 'refused' }>;

/** licenseErrorType 2: the license was not set, even though the update itself succeeded. */
export const LICENSE_NOT_SET = 2;

const label = (e: EnumEntry) => `${e.name} (${Number.isNaN(e.value) ? '?' : e.value})`;

export function formatInputProblems(err: MailboxInputError): string {
  const n = err.problems.length;
  const lines = [`icwatch: ${err.file}: ${n} problem${n === 1 ? '' : 's'} in the input; nothing was sent:`];
  for (const p of err.problems) lines.push(`  ${p.where}: ${p.problem}`);
  return lines.join('\n') + '\n';
}

/** `removed`: the ids the request removed (the answer lists only the added and modified ones). */
export function formatUpdated(workgroupId: string, subObjects: SubObject[], removed: string[] = []): string {
  const n = subObjects.length;
  const lines = [
    `Workgroup ${workgroupId}: ${n} monitored mailbox${n === 1 ? '' : 'es'} added or modified${removed.length ? `, ${removed.length} removed` : ''}.`,
  ];
  if (removed.length) lines.push(`Removed: ${removed.join(', ')}`);
  if (n === 0) return lines.join('\n') + '\n';
  const rows = subObjects.map((o) => [o.id, o.uri ?? '', licenseProblemsCell(o.licenseProblems)]);
  lines.push(...table(['ID', 'URI', 'LICENSE PROBLEMS'], rows));

  // Meanings are long: once each below the table rather than in every row.
  const seen = new Map<number, EnumEntry>();
  for (const p of subObjects.flatMap((o) => o.licenseProblems ?? [])) seen.set(p.licenseErrorType, lookup(LICENSE_ERROR_TYPES, p.licenseErrorType));
  if (seen.size > 0) {
    lines.push('', 'License problems:');
    for (const e of seen.values()) lines.push(`  ${label(e)}: ${e.meaning}`);
  }
  return lines.join('\n') + '\n';
}

export function formatRejected(workgroupId: string, r: Rejected): string {
  const lines = [
    `icwatch: the server refused the update of workgroup ${workgroupId}'s monitored mailboxes (400${r.errorId ? ` ${r.errorId}` : ''}): ${r.message}`,
  ];
  lines.push('Nothing was changed.');
  if (r.validationErrors.length > 0) {
    lines.push(`Validation errors (${r.validationErrors.length}):`);
    for (const v of r.validationErrors) {
      const e = lookup(VALIDATION_ERROR_TYPES, v.validationErrorType);
      lines.push(`  - ${v.propertyName || '(no property)'} = ${JSON.stringify(v.propertyValue)}: ${label(e)}: ${e.meaning}`);
    }
  }
  if (r.licenseErrors.length > 0) {
    lines.push(`License errors (${r.licenseErrors.length}):`);
    for (const l of r.licenseErrors) {
      const e = lookup(LICENSE_ERROR_TYPES, l.licenseErrorType);
      lines.push(`  - ${licenseName(l.license)}: ${label(e)}: ${e.meaning}`);
    }
  }
  return lines.join('\n') + '\n';
}

export function formatRefused(workgroupId: string, r: Refused, user: string): string {
  const what = `${r.status}${r.errorId ? ` ${r.errorId}` : ''}`;
  switch (r.status) {
    case 403:
      return `icwatch: the server refused the update (${what}): ${r.message}\nThe ICWS user ${JSON.stringify(user)} may not modify workgroup ${JSON.stringify(workgroupId)}'s monitored mailboxes.\n`;
    case 404:
      return `icwatch: the server refused the update (${what}): ${r.message}\nCheck --workgroup ${JSON.stringify(workgroupId)}: the server knows no such workgroup.\n`;
    case 400:
      return `icwatch: the server refused the request body (${what}): ${r.message}\n`;
    default:
      if (r.status >= 500) {
        // No retry: whether the server applied part of the update is unknown, and an `add` sent twice is not harmless.
        return `icwatch: the server failed (${what}): ${r.message}\nIt may or may not have applied the update; check the workgroup before running it again.\n`;
      }
      return `icwatch: the server refused the update (${what}): ${r.message}\n`;
  }
}

function licenseProblemsCell(problems: LicenseProblem[] | undefined): string {
  if (!problems || problems.length === 0) return '-';
  return problems.map((p) => `${licenseName(p.license)} ${label(lookup(LICENSE_ERROR_TYPES, p.licenseErrorType))}`).join(', ');
}

/** A license by its displayName, else its id (the wire form is a ConfigurationId: docs/icws.md "Monitored mailboxes"). */
export function licenseName(license: ConfigurationId | string | undefined): string {
  if (typeof license === 'string') return license || '(no license)';
  return license?.displayName || license?.id || '(no license)';
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)];
}
