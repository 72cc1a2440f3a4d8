/**
 * From ICWS users to what the mirror stores: every property as its JSON encoding (JSON.stringify of the value as
 * ICWS sent it, key order as received), so that "did this property change" is a string comparison and Redis gets
 * the exact text readers parse. Malformed users are reported, not thrown, so one bad user never stops a message.
 * Here, beside the reading, because a full replace's users are encoded as they are read (message-stream.ts).
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

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return typeof value;
}
