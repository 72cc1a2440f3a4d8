/**
 * A user's properties taken as slices of the text it arrived as, when that text is exactly what JSON.stringify
 * writes: then each slice is byte for byte the property's stored text (src/mirror/encode.ts is JSON.stringify of the
 * parsed value), and a full replace's users need no re-encoding (docs/architecture.md "Big directories"). Anything
 * JSON.stringify would write otherwise makes the caller encode as usual: whitespace between tokens, an escape it
 * does not write (`\/`, `\u…`), a surrogate (it escapes lone ones), a number not in its shortest form (`1.50`, `-0`,
 * `1e2`), a key that is an array index (V8 puts those first) or a key twice in one object (JSON.parse keeps the last).
 * The text was parsed first: it is JSON, so only those questions are left.
 */

/** Property names, and where each property's text starts and ends in the user's text. */
export interface UserSlices {
  names: string[];
  starts: number[];
  ends: number[];
}

const QUOTE = 34;
const BACKSLASH = 92;

/** The slices of a canonical user text (a JSON object), or undefined when the text is not as JSON.stringify writes it. */
export function userSlices(text: string): UserSlices | undefined {
  if (/[\uD800-\uDFFF]/.test(text)) return undefined;
  const names: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  // The keys of each open object (index 0: the user), and whether each open container is an object.
  const keys: string[][] = [];
  const objects: boolean[] = [];
  let expectKey = false;
  let valueStart = -1;
  let backslash = -1;
  const n = text.length;
  if (text.charCodeAt(0) !== 123 /* { */) return undefined;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const from = i + 1;
      let raw = false;
      // Jump to the closing quote (most strings hold no backslash: the next one is looked for again only once passed).
      let close = text.indexOf('"', from);
      if (close === -1) return undefined;
      if (backslash < from) backslash = nextBackslash(text, from);
      while (backslash < close) {
        const e = text.charCodeAt(backslash + 1);
        // JSON.stringify writes these escapes (and \u00xx for other control characters, never mind: rare).
        if (e !== QUOTE && e !== BACKSLASH && e !== 98 && e !== 102 && e !== 110 && e !== 114 && e !== 116) return undefined;
        raw = true;
        if (close === backslash + 1) close = text.indexOf('"', backslash + 2);
        backslash = nextBackslash(text, backslash + 2);
      }
      if (close === -1) return undefined;
      i = close;
      if (expectKey) {
        const keyText = text.slice(from, i);
        const first = keyText.charCodeAt(0);
        if (first >= 48 && first <= 57) return undefined; // maybe an array index
        const key = raw ? (JSON.parse(`"${keyText}"`) as string) : keyText;
        const own = keys[keys.length - 1]!;
        if (own.includes(key)) return undefined;
        own.push(key);
        if (keys.length === 1) names.push(nameOf(key));
        expectKey = false;
      }
      continue;
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      objects.push(c === 123);
      if (c === 123) {
        keys.push([]);
        expectKey = true;
      }
      continue;
    }
    if (c === 125 /* } */ || c === 93 /* ] */) {
      if (objects.pop()) keys.pop();
      if (objects.length === 0) {
        if (valueStart >= 0) ends.push(i);
        return i === n - 1 ? { names, starts, ends } : undefined;
      }
      continue;
    }
    const depth = objects.length;
    if (c === 58 /* : */) {
      if (depth === 1) {
        valueStart = i + 1;
        starts.push(valueStart);
      }
      continue;
    }
    if (c === 44 /* , */) {
      if (depth === 1) ends.push(i);
      if (objects[depth - 1]) expectKey = true;
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      let end = i + 1;
      while (end < n) {
        const d = text.charCodeAt(end);
        if ((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) end++;
        else break;
      }
      const number = text.slice(i, end);
      if (String(Number(number)) !== number) return undefined;
      i = end - 1;
      continue;
    }
    // true, false, null: letters; anything else (whitespace) is not written by JSON.stringify.
    if (c < 97 || c > 122) return undefined;
  }
  return undefined;
}

/** The next backslash at or after `from`; the text's length when there is none (so that it is not looked for again). */
function nextBackslash(text: string, from: number): number {
  const at = text.indexOf('\\', from);
  return at === -1 ? text.length : at;
}

/**
 * The one copy of a property name. A name sliced from a user's text would keep that text, and the piece of the
 * stream it came in, alive as long as the mirror holds the name (a key of each user's digests). Bounded: a source
 * sending ever new names costs a fresh copy each, not memory.
 */
const names = new Map<string, string>();
function nameOf(key: string): string {
  const known = names.get(key);
  if (known !== undefined) return known;
  // JSON.parse makes a string of its own, not a slice of the user's text.
  const own = JSON.parse(JSON.stringify(key)) as string;
  if (names.size < 10_000) names.set(own, own);
  return own;
}
