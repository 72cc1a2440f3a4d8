/**
 * What the mirror stores of a property: its value's JSON encoding (JSON.stringify of the value as the source gave it,
 * key order as received), so that "did this property change" is a string comparison and Redis gets the exact text
 * readers parse (README "Redis layout"). And the index value of a stored property.
 */

/** Why a value cannot be stored. */
export interface EncodingProblem {
  problem: string;
}

/** Encode one property's (non-null) value as the mirror stores it: its text, or why it cannot be stored. */
export function encodeValue(property: string, value: unknown): string | EncodingProblem {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    return { problem: `property ${property} is not JSON-encodable: ${(err as Error).message}` };
  }
  // undefined: a function or symbol; 'null': NaN or Infinity. Neither is a value a JSON source can have sent.
  if (json === undefined || json === 'null') return { problem: `property ${property} is not JSON-encodable (a ${typeof value})` };
  return json;
}

/** The index value of a stored property: a string property is indexed by the string itself, anything else by its JSON. */
export function indexValue(json: string): string {
  if (json.charCodeAt(0) === 34 /* " */) return JSON.parse(json) as string;
  // A copy of its own: the text may be a slice of what a source read (a whole user, a piece of its stream), which the
  // index would keep alive for as long as it holds the value.
  // (JSON text has no lone surrogates: through UTF-8 and back it is the same string.)
  return Buffer.from(json).toString();
}
