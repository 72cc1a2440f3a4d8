/**
 * ICWS dates: compact ISO 8601 (`20171118T063908Z`, optional fraction) or the extended form
 * (`2017-11-18T06:39:08Z`) (docs/icws.md "User property shapes"). Returns ms since the epoch, or undefined when the
 * text is neither.
 */
export function parseIcwsDate(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const compact = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:[.,](\d{1,9}))?Z$/.exec(text);
  if (compact) {
    const [, y, mo, d, h, mi, s, frac] = compact;
    const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
    return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(text)) {
    const t = Date.parse(text);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}
