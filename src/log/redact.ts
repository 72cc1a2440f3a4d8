/**
 * Secrets never reach a log line: values registered here (password, tokens, session cookies, CSRF tokens) are
 * replaced wherever they occur in any string, and fields whose names say they hold a secret are masked whole.
 */
const SECRET_FIELD = /(password|passwd|token|cookie|csrf|authorization|secret)/i;
const secrets = new Set<string>();

/**
 * Remember a secret value; every later log line and `redactText` call masks it. Ignores values too short to mask
 * safely, and values also given as `publicAs` (a password equal to the user name is no secret, and masking it would
 * blank the user name, and every word like it, out of every line).
 */
export function registerSecret(value: string | undefined | null, publicAs: (string | undefined)[] = []): void {
  if (value && value.length >= 3 && !publicAs.includes(value)) secrets.add(value);
}

export function forgetSecret(value: string | undefined | null): void {
  if (value) secrets.delete(value);
}

export function redactText(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
  return out;
}

/** A deep copy of `value` with secret-named fields masked and registered secret values removed from strings. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_FIELD.test(k) && v !== '' && v !== undefined && v !== null && typeof v !== 'boolean' && typeof v !== 'number' ? '[redacted]' : redactValue(v, depth + 1);
  }
  return out;
}
