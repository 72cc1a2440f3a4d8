/**
 * ICWS dates: compact ISO 8601 (`20171118T063908Z`, optional fraction) or the extended form
 * (`2017-11-18T06:39:08Z`) (docs/icws.md "User property shapes"). Returns ms since the epoch, or undefined when the
 * text is neither.
 */
export function parseIcwsDate(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const compact = compactDate(text);
  if (compact !== undefined) return compact;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(text)) {
    const t = Date.parse(text);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/**
 * `yyyyMMddTHHmmss[.fraction]Z`, read digit by digit: every delta's user carries one, and a regular expression's
 * match would allocate nine strings for each.
 */
function compactDate(text: string): number | undefined {
  const n = text.length;
  if (n < 16 || text.charCodeAt(8) !== 84 /* T */ || text.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  const y = digits(text, 0, 4);
  const mo = digits(text, 4, 2);
  const d = digits(text, 6, 2);
  const h = digits(text, 9, 2);
  const mi = digits(text, 11, 2);
  const s = digits(text, 13, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return undefined;
  let ms = 0;
  if (n > 16) {
    // A fraction of 1 to 9 digits after '.' or ','.
    const mark = text.charCodeAt(15);
    const fraction = n - 17;
    if ((mark !== 46 && mark !== 44) || fraction < 1 || fraction > 9) return undefined;
    const f = digits(text, 16, fraction);
    if (f < 0) return undefined;
    ms = Math.round((f / 10 ** fraction) * 1000);
  }
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

/** The decimal number of `length` digits at `start`, or -1 when one of them is not a digit. */
function digits(text: string, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}
