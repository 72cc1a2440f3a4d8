/**
 * From ICWS users to what the mirror stores: every property as its JSON encoding (JSON.stringify of the value as
 * ICWS sent it, key order as received), so that "did this property change" is a string comparison and Redis gets
 * the exact text readers parse. Malformed users are reported, not thrown, so one bad user never stops a message.
 */

/** property → JSON encoding; `null` (in a merge) = the property was cleared. */
export type EncodedProps = Map<string, string | null>;

export type EncodedUser = { ok: true; id: string; props: EncodedProps } | { ok: false; id: string; problem: string };

/**
 * Encode one user of a usersMessage. `keepNulls`: a delta's `changed` (null = cleared) keeps them; an add or a full
 * replace (which carry every set property) drops them.
 */
export function encodeUser(user: unknown, keepNulls: boolean): EncodedUser {
  if (user === null || typeof user !== 'object' || Array.isArray(user)) {
    return { ok: false, id: '?', problem: `expected a user object, got ${describe(user)}` };
  }
  const record = user as Record<string, unknown>;
  const cid = record.configurationId as { id?: unknown } | null | undefined;
  const id = cid && typeof cid === 'object' ? cid.id : undefined;
  if (typeof id !== 'string' || id === '') {
    return { ok: false, id: '?', problem: `configurationId.id missing or not a non-empty string (got ${describe(id)})` };
  }
  const props: EncodedProps = new Map();
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value === null || value === undefined) {
      if (key === 'configurationId') return { ok: false, id, problem: 'configurationId given as null' };
      if (keepNulls && value === null) props.set(key, null);
      continue;
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      return { ok: false, id, problem: `property ${key} is not JSON-encodable: ${(err as Error).message}` };
    }
    // undefined: a function or symbol; 'null': NaN or Infinity. Neither is a value ICWS can have sent.
    if (json === undefined || json === 'null') {
      return { ok: false, id, problem: `property ${key} is not JSON-encodable (a ${typeof value})` };
    }
    props.set(key, json);
  }
  return { ok: true, id, props };
}

/** The index value of a stored property: a string property is indexed by the string itself, anything else by its JSON. */
export function indexValue(json: string): string {
  return json.charCodeAt(0) === 34 /* " */ ? (JSON.parse(json) as string) : json;
}

/**
 * ICWS dates: compact ISO 8601 (`20171118T063908Z`, optional fraction) or the extended form
 * (`2017-11-18T06:39:08Z`). Returns ms since the epoch, or undefined when the text is neither.
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

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return typeof value;
}
