/**
 * The bulk-update input file: YAML or JSON `{add: […], modify: […], remove: [ids]}`, validated locally so that
 * every problem is reported at once, naming the entry and property (e.g. `add[2].emailAddress`), and nothing is
 * sent while any remains. The result is the exact request body.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { INBOUND_MAILBOX_TYPES, MAILBOX_TYPES, lookup } from './enums.js';
import { BULK_UPDATE_TYPE, type ConfigurationId, type MonitoredMailbox, type MonitoredMailboxesBulkUpdate } from './types.js';

/** One thing wrong with the input: where (`add[2].emailAddress`), and what was wrong and expected. */
export interface InputProblem {
  where: string;
  problem: string;
}

/** The input file cannot be used: unreadable, unparsable, or invalid. Carries every problem found. */
export class MailboxInputError extends Error {
  override name = 'MailboxInputError';
  constructor(
    readonly file: string,
    readonly problems: InputProblem[],
  ) {
    super(`${file}: ${problems.map((p) => `${p.where}: ${p.problem}`).join('; ')}`);
  }
}

const MAILBOX_KEYS = ['configurationId', 'canReceiveEncryptedEmail', 'emailAddress', 'inboundFolder', 'mailboxMoniker', 'mailboxType'] as const;
const CONFIGURATION_ID_KEYS = ['id', 'displayName', 'uri'] as const;
const TOP_KEYS = ['add', 'modify', 'remove'] as const;
const TYPE_NAMES = MAILBOX_TYPES.map((t) => `${t.name} (${t.value})`).join(', ');
const EXPECTED_SHAPE = 'expected {add: [mailbox, …], modify: [mailbox, …], remove: [id, …]}';

/** Reads, parses and validates `file`; throws MailboxInputError listing every problem. */
export function readBulkUpdateFile(file: string): MonitoredMailboxesBulkUpdate {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a YAML or JSON file' : `cannot read it (${code ?? String(err)})`;
    throw new MailboxInputError(file, [{ where: '(file)', problem: why }]);
  }
  return validateBulkUpdate(parseInput(text, file), file);
}

/**
 * Parses by extension (.json → JSON, .yaml/.yml → YAML); otherwise by content: text opening with `{` or `[` is
 * JSON (its errors are clearer than YAML's for JSON), anything else YAML.
 */
export function parseInput(text: string, file: string): unknown {
  const ext = extname(file).toLowerCase();
  const asJson = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && /^\s*[[{]/.test(text));
  try {
    return asJson ? (text.trim() === '' ? undefined : JSON.parse(text)) : parseYaml(text);
  } catch (err) {
    const first = (err as Error).message.split('\n')[0];
    throw new MailboxInputError(file, [{ where: '(file)', problem: `not valid ${asJson ? 'JSON' : 'YAML'}: ${first}` }]);
  }
}

/** Validates parsed input and builds the request body; throws MailboxInputError listing every problem. */
export function validateBulkUpdate(input: unknown, file = 'input'): MonitoredMailboxesBulkUpdate {
  const problems: InputProblem[] = [];
  const report = (where: string, problem: string) => problems.push({ where, problem });

  if (input === undefined || input === null || input === '') {
    throw new MailboxInputError(file, [{ where: '(file)', problem: `the file is empty; ${EXPECTED_SHAPE}` }]);
  }
  if (!isMapping(input)) {
    throw new MailboxInputError(file, [{ where: '(top level)', problem: `got ${kind(input)}; ${EXPECTED_SHAPE}` }]);
  }
  for (const key of Object.keys(input)) {
    // Older --dry-run output carried __type (the request body no longer does); accept it back as input.
    if (key === '__type' && input[key] === BULK_UPDATE_TYPE) continue;
    if (!(TOP_KEYS as readonly string[]).includes(key)) report(key, `unknown key; expected add, modify or remove`);
  }

  const add = mailboxList(input.add, 'add', report);
  const modify = mailboxList(input.modify, 'modify', report);
  const remove = removeList(input.remove, report);
  checkRepeatedIds(modify, remove, report);

  if (problems.length === 0 && add.length + modify.length + remove.length === 0) {
    report('(top level)', 'nothing to do: add, modify and remove are all missing or empty');
  }
  if (problems.length > 0) throw new MailboxInputError(file, problems);
  // As the reference page has it (docs/icws.md "Monitored mailboxes"): no __type, and empty lists left out.
  return {
    ...(add.length ? { add: add.map((m) => m.mailbox) } : {}),
    ...(modify.length ? { modify: modify.map((m) => m.mailbox) } : {}),
    ...(remove.length ? { remove: remove.map((r) => r.id) } : {}),
  };
}

type Report = (where: string, problem: string) => void;
interface Located<T> {
  where: string;
  mailbox: T;
}

function mailboxList(value: unknown, list: 'add' | 'modify', report: Report): Located<MonitoredMailbox>[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    report(list, `got ${kind(value)}; expected a list of mailboxes`);
    return [];
  }
  return value.map((entry, i) => ({ where: `${list}[${i}]`, mailbox: mailbox(entry, `${list}[${i}]`, list, report) }));
}

function mailbox(entry: unknown, where: string, list: 'add' | 'modify', report: Report): MonitoredMailbox {
  const out: MonitoredMailbox = {};
  if (!isMapping(entry)) {
    report(where, `got ${kind(entry)}; expected a mailbox {emailAddress, mailboxMoniker, mailboxType, …}`);
    return out;
  }
  for (const key of Object.keys(entry)) {
    if (!(MAILBOX_KEYS as readonly string[]).includes(key)) report(`${where}.${key}`, `unknown property; expected one of ${MAILBOX_KEYS.join(', ')}`);
  }

  if (entry.configurationId !== undefined) {
    const id = configurationId(entry.configurationId, `${where}.configurationId`, report);
    if (id) out.configurationId = id;
  } else if (list === 'modify') {
    report(`${where}.configurationId`, 'required on modify: the id of the monitored mailbox to change (a string, or {id: …})');
  }

  if (entry.canReceiveEncryptedEmail !== undefined) {
    if (entry.canReceiveEncryptedEmail === null || typeof entry.canReceiveEncryptedEmail === 'boolean')
      out.canReceiveEncryptedEmail = entry.canReceiveEncryptedEmail;
    else report(`${where}.canReceiveEncryptedEmail`, `got ${shown(entry.canReceiveEncryptedEmail)}; expected true, false or null (null = the default, false)`);
  }

  if (entry.emailAddress !== undefined) {
    const email = entry.emailAddress;
    if (typeof email !== 'string' || email.trim() === '')
      report(`${where}.emailAddress`, `got ${shown(email)}; expected an email address such as support@example.com`);
    else if (!/^[^@\s]+@[^@\s]+$/.test(email.trim()))
      report(`${where}.emailAddress`, `got ${shown(email)}; expected an email address such as support@example.com`);
    else out.emailAddress = email.trim();
  } else if (list === 'add') {
    report(`${where}.emailAddress`, 'required on add; expected an email address such as support@example.com');
  }

  if (entry.inboundFolder !== undefined) {
    if (entry.inboundFolder === null || (typeof entry.inboundFolder === 'string' && entry.inboundFolder !== '')) out.inboundFolder = entry.inboundFolder;
    else report(`${where}.inboundFolder`, `got ${shown(entry.inboundFolder)}; expected a folder name of the mailbox, or null`);
  }

  if (entry.mailboxMoniker !== undefined) {
    if (typeof entry.mailboxMoniker === 'string' && entry.mailboxMoniker.trim() !== '') out.mailboxMoniker = entry.mailboxMoniker;
    else report(`${where}.mailboxMoniker`, `got ${shown(entry.mailboxMoniker)}; expected the mailbox's moniker (a non-empty string)`);
  } else if (list === 'add') {
    report(`${where}.mailboxMoniker`, "required on add; expected the mailbox's moniker (a non-empty string)");
  }

  if (entry.mailboxType !== undefined) {
    const type = mailboxType(entry.mailboxType);
    if (type === undefined) report(`${where}.mailboxType`, `got ${shown(entry.mailboxType)}; expected one of ${TYPE_NAMES}`);
    else out.mailboxType = type;
  }

  // The page: "For non-inbound mailboxes, this must be null". Checked only when the entry says its type: on
  // modify the server keeps the type it has, which we cannot see.
  if (typeof out.inboundFolder === 'string' && out.mailboxType !== undefined && !INBOUND_MAILBOX_TYPES.has(out.mailboxType)) {
    const type = lookup(MAILBOX_TYPES, out.mailboxType);
    report(
      `${where}.inboundFolder`,
      `only for inbound mailbox types (inbound, outboundAndInbound); this mailbox is ${type.name} (${type.value}): leave inboundFolder out or set it to null`,
    );
  }
  return out;
}

function configurationId(value: unknown, where: string, report: Report): ConfigurationId | undefined {
  if (typeof value === 'string') {
    if (value.trim() !== '') return { id: value };
    report(where, 'got an empty string; expected the mailbox id (a non-empty string, or {id: …})');
    return undefined;
  }
  if (!isMapping(value)) {
    report(where, `got ${kind(value)}; expected the mailbox id (a non-empty string, or {id, displayName?, uri?})`);
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(value)) {
    if (!(CONFIGURATION_ID_KEYS as readonly string[]).includes(key)) {
      report(`${where}.${key}`, `unknown property; expected one of ${CONFIGURATION_ID_KEYS.join(', ')}`);
      ok = false;
    }
  }
  const out: ConfigurationId = { id: '' };
  if (typeof value.id === 'string' && value.id.trim() !== '') out.id = value.id;
  else {
    report(
      `${where}.id`,
      value.id === undefined ? 'missing; expected the mailbox id (a non-empty string)' : `got ${shown(value.id)}; expected the mailbox id (a non-empty string)`,
    );
    ok = false;
  }
  if (value.displayName !== undefined) {
    if (value.displayName === null || typeof value.displayName === 'string') out.displayName = value.displayName;
    else {
      report(`${where}.displayName`, `got ${shown(value.displayName)}; expected a string or null`);
      ok = false;
    }
  }
  if (value.uri !== undefined) {
    if (typeof value.uri === 'string') out.uri = value.uri;
    else {
      report(`${where}.uri`, `got ${shown(value.uri)}; expected a string`);
      ok = false;
    }
  }
  return ok ? out : undefined;
}

function mailboxType(value: unknown): number | undefined {
  if (typeof value === 'number') return MAILBOX_TYPES.some((t) => t.value === value) ? value : undefined;
  if (typeof value === 'string') return MAILBOX_TYPES.find((t) => t.name.toLowerCase() === value.trim().toLowerCase())?.value;
  return undefined;
}

function removeList(value: unknown, report: Report): { where: string; id: string }[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    report('remove', `got ${kind(value)}; expected a list of mailbox ids (strings)`);
    return [];
  }
  const out: { where: string; id: string }[] = [];
  value.forEach((id, i) => {
    if (typeof id === 'string' && id.trim() !== '') out.push({ where: `remove[${i}]`, id });
    else {
      const hint = typeof id === 'number' ? ' (a number: quote it, e.g. "123")' : '';
      report(`remove[${i}]`, `got ${shown(id)}${hint}; expected a mailbox id (a non-empty string)`);
    }
  });
  return out;
}

/** One id changed twice in one request is ambiguous; say where both are. */
function checkRepeatedIds(modify: Located<MonitoredMailbox>[], remove: { where: string; id: string }[], report: Report): void {
  const seen = new Map<string, string>();
  const all = [...modify.map((m) => ({ where: `${m.where}.configurationId`, id: m.mailbox.configurationId?.id })), ...remove];
  for (const { where, id } of all) {
    if (!id) continue;
    const first = seen.get(id);
    if (first) report(where, `the id ${JSON.stringify(id)} is already changed at ${first}; expected each id at most once across modify and remove`);
    else seen.set(id, where);
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value === 'string' ? 'the string' : `the ${typeof value}`} ${shown(value)}`;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
