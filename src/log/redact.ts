/**
 * The one redaction of every output: log lines, error messages, `check-config`, the status page and JSON. It masks
 * - secret values registered here (the password, tokens, a session's cookie and CSRF token) wherever they occur;
 * - credentials inside URLs (`redis://user:pw@host` → `redis://user:[redacted]@host`) and token query parameters,
 *   registered or not (a URL from the configuration or an error message needs no registration);
 * - in log fields, fields whose names say they hold a secret (`password`, `cookie`, …), whole.
 *
 * Secrets that belong to a session are forgotten when it ends (`Secret.forget`, `SecretScope`), so the registry
 * holds what is live, not every token ever seen; it is also bounded (MAX_SECRETS), and every text is scanned with
 * one compiled pattern rather than once per secret.
 */

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';
/**
 * Distinct secret values remembered at once. Live ones are few (a password, the configured tokens, two per ICWS
 * session); past the limit the oldest registration is dropped, which only happens if a holder never forgets.
 */
export const MAX_SECRETS = 1024;
/** Shorter values are not masked: they would blank ordinary words out of every line. */
const MIN_SECRET_LENGTH = 3;
/** Nesting followed into a value; anything deeper is replaced whole rather than printed unredacted. */
const MAX_DEPTH = 16;

const SECRET_FIELD = /(password|passwd|token|cookie|csrf|authorization|secret)/i;
/** scheme://user:password@ — the password runs to the last @ before the path (as WHATWG URL parsing reads it). */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*):([^\s/?#]+)@/gi;
const TOKEN_PARAMETER = /([?&](?:access_token|token|password|auth)=)[^&\s#"']+/gi;

/** A registered secret value: masked in every output until `forget()` (idempotent). */
export interface Secret {
  forget(): void;
}

/** Value → number of live registrations (the same value may be registered by two holders). */
const registered = new Map<string, number>();
/** One alternation of every registered value, longest first; rebuilt on the next scan after a change. */
let pattern: RegExp | null = null;
let patternStale = false;

const NOTHING: Secret = { forget: () => {} };

/**
 * Remember a secret value until the returned handle forgets it. Ignores values too short to mask safely, and
 * values also given as `publicAs` (a password equal to the user name is no secret, and masking it would blank the
 * user name, and every word like it, out of every line).
 */
export function registerSecret(value: string | undefined | null, publicAs: (string | undefined)[] = []): Secret {
  if (!value || value.length < MIN_SECRET_LENGTH || publicAs.includes(value)) return NOTHING;
  const count = registered.get(value);
  if (count === undefined) {
    registered.set(value, 1);
    patternStale = true;
    if (registered.size > MAX_SECRETS) registered.delete(registered.keys().next().value!);
  } else {
    registered.set(value, count + 1);
  }
  let live = true;
  return {
    forget() {
      if (!live) return;
      live = false;
      const left = (registered.get(value) ?? 0) - 1;
      if (left > 0) registered.set(value, left);
      else if (registered.delete(value)) patternStale = true;
    },
  };
}

/** The secrets of one holder's current session: `replace` forgets the previous ones, `clear` forgets them all. */
export class SecretScope {
  private held: Secret[] = [];

  replace(...values: (string | undefined | null)[]): void {
    this.clear();
    this.held = values.map((v) => registerSecret(v));
  }

  clear(): void {
    for (const s of this.held) s.forget();
    this.held = [];
  }
}

function secretsPattern(): RegExp | null {
  if (patternStale) {
    patternStale = false;
    const values = [...registered.keys()].sort((a, b) => b.length - a.length);
    pattern = values.length ? new RegExp(values.map(escapeRegExp).join('|'), 'g') : null;
  }
  return pattern;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** `text` with registered secrets, URL credentials and token parameters masked. */
export function redactText(text: string): string {
  const secrets = secretsPattern();
  let out = secrets ? text.replace(secrets, REDACTED) : text;
  if (out.includes('://')) out = out.replace(URL_CREDENTIALS, `$1:${REDACTED}@`);
  if (out.includes('=')) out = out.replace(TOKEN_PARAMETER, `$1${REDACTED}`);
  return out;
}

/** A URL as it may be printed: its password (if any) masked; `redis://h:6379` stays as it is. */
export function redactUrl(url: string): string {
  return url.replace(URL_CREDENTIALS, `$1:${REDACTED}@`).replace(TOKEN_PARAMETER, `$1${REDACTED}`);
}

/** For log fields: a deep copy with secret-named fields masked whole and every string redacted. */
export function redactValue(value: unknown): unknown {
  return redactDeep(value, true, 0);
}

/**
 * For outputs whose field names are ours (the status page and JSON, the printed configuration): a deep copy of the
 * same shape with every string redacted. Field names are not judged: a user property may well be called `token`.
 */
export function redactStrings<T>(value: T): T {
  return redactDeep(value, false, 0) as T;
}

function redactDeep(value: unknown, byFieldName: boolean, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (depth > MAX_DEPTH) return '[too deep]';
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, byFieldName, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const masked = byFieldName && SECRET_FIELD.test(k) && (typeof v === 'string' ? v !== '' : typeof v === 'object' && v !== null);
    out[k] = masked ? REDACTED : redactDeep(v, byFieldName, depth + 1);
  }
  return out;
}
