/**
 * A user of a full replace read in one pass over the text it arrived as, when that text is exactly what JSON.stringify
 * writes: the pass checks that it is JSON, finds configurationId.id, checks each property's JSON type
 * (property-types.ts) and takes each property's text as a slice, which is then byte for byte the text the mirror stores
 * (src/mirror/encode.ts is JSON.stringify of the parsed value). So such a user is never parsed into objects nor
 * re-encoded (docs/architecture.md "A re-sync costs what changed"). Anything else gives undefined, and the caller
 * parses the text as usual, which also says what is wrong with it: a text that is not JSON or not a user, a property of
 * the wrong type, and anything JSON.stringify would write otherwise: whitespace between tokens, an escape it does not
 * write (`\/`, `\u…`), a surrogate (it escapes lone ones), a number not in its shortest form (`1.50`, `-0`, `1e2`), a
 * key that is an array index (V8 puts those first) or a key twice in one object (JSON.parse keeps the last).
 */
import { expectedTypeOf, type JsonType } from './property-types.js';

/** A user's id, its property names, and where each property's text starts and ends in the user's text. */
export interface UserSlices {
  /** configurationId.id, never empty. */
  id: string;
  /** Properties given as null are left out (they are not set). */
  names: string[];
  starts: number[];
  ends: number[];
  /** Just past the user's closing brace. */
  end: number;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;

/**
 * Characters JSON.stringify never writes raw in a string: control characters and surrogates (it escapes lone ones;
 * pairs are rare in a directory, and parsing takes them). Outside strings it writes no whitespace at all.
 */
const NOT_WRITTEN = /[^\x20-\ud7ff\ue000-\uffff]/g;

/** Deeper than this is read by JSON.parse: the pass recurses, and a user's JSON is a few levels deep. */
const MAX_DEPTH = 64;

/** The keys of the objects open in the pass, as ranges of its text (looked through for a key given twice). */
const keyStarts: number[] = [];
const keyEnds: number[] = [];
let keyCount = 0;

/**
 * The user's names so far, and those of them not found in lastNames' order, looked through for a name given twice.
 * Names found in order need no search: each was found past the one before, and lastNames holds each name once.
 */
const userNames: string[] = [];
const namesOutOfOrder: string[] = [];
const MAX_NAMES = 10_000;

/** The property names of the user read before: most users of a directory have the same ones, held once. */
let lastNames: string[] = [];

/**
 * Where the pass last found the next backslash and the next character not written raw in `scanned`, and from where
 * it looked: most strings hold neither, so each is looked for again only once passed, and the users read from one
 * piece of a stream (userSlicesAt) share the search.
 */
let scanned = '';
const backslash = { from: 0, at: 0 };
const notWritten = { from: 0, at: 0 };

/** The user's slices, or undefined when its text is not a user as JSON.stringify writes one (the caller parses it). */
export function userSlices(text: string): UserSlices | undefined {
  const slices = userSlicesAt(text, 0);
  return slices?.end === text.length ? slices : undefined;
}

/**
 * The slices of the user whose text starts at `at` in `text` (the piece of a stream being read, message-stream.ts),
 * or undefined when there is none as JSON.stringify writes it that ends within `text`.
 */
export function userSlicesAt(text: string, at: number): UserSlices | undefined {
  if (text.charCodeAt(at) !== LBRACE) return undefined;
  if (text !== scanned) {
    scanned = text;
    backslash.from = backslash.at = notWritten.from = notWritten.at = text.length;
  }
  keyCount = 0;
  return new UserPass(text).user(at);
}

/** The next `\` (or, with `pattern`, the next match) at or after `from` in `scanned`, or its length: `found` kept. */
function nextAt(found: { from: number; at: number }, from: number, pattern?: RegExp): number {
  if (from >= found.from && from <= found.at) return found.at;
  let at: number;
  if (pattern) {
    pattern.lastIndex = from;
    at = pattern.exec(scanned)?.index ?? -1;
  } else at = scanned.indexOf('\\', from);
  found.from = from;
  return (found.at = at === -1 ? scanned.length : at);
}

/** One pass over one user's text. Each method takes where a token starts and gives where it ends, or -1. */
class UserPass {
  /** Where in lastNames the next property's name is looked for first. */
  private nextName = 0;
  /** The last name was found in lastNames, past the one before. */
  private inOrder = false;
  /** The last string had an escape. */
  private escaped = false;
  private idStart = -1;
  private idEnd = -1;

  constructor(private readonly text: string) {}

  user(from: number): UserSlices | undefined {
    const text = this.text;
    let names: string[] | undefined; // undefined while they are lastNames' first ones
    let count = 0;
    const starts: number[] = [];
    const ends: number[] = [];
    let at = from + 1;
    if (text.charCodeAt(at) === RBRACE) return undefined; // no configurationId
    userNames.length = 0;
    namesOutOfOrder.length = 0;
    for (;;) {
      const start = this.key(at, -1);
      if (start < 0) return undefined;
      const first = text.charCodeAt(start);
      // The key's text is between its quotes, before the colon.
      const name = this.nameOf(at + 1, start - 2);
      if (this.givenTwice(name)) return undefined;
      let end: number;
      if (name === 'configurationId') {
        if (first !== LBRACE) return undefined;
        end = this.object(start, 2, true);
      } else end = this.value(start, 1);
      if (end < 0) return undefined;
      if (first !== 110 /* n: null, not set */) {
        const expected = expectedTypeOf(name);
        if (expected !== undefined && expected !== typeAt(first)) return undefined;
        if (names === undefined && name !== lastNames[count]) names = lastNames.slice(0, count);
        names?.push(name);
        starts.push(start);
        ends.push(end);
        count++;
      }
      const c = text.charCodeAt(end);
      if (c === COMMA) {
        at = end + 1;
        continue;
      }
      // No configurationId.id, or an empty one: the caller's check says so.
      if (c !== RBRACE || this.idEnd - this.idStart <= 2) return undefined;
      if (names === undefined) names = count === lastNames.length ? lastNames : lastNames.slice(0, count);
      lastNames = names;
      // A copy of its own (JSON.parse makes one): a slice would keep the whole text alive as long as the mirror holds the id.
      const id = JSON.parse(text.slice(this.idStart, this.idEnd)) as string;
      return { id, names, starts, ends, end: end + 1 };
    }
  }

  /**
   * Where the value after the key at `at` (its opening quote) starts, or -1. In a nested object (whose keys start at
   * `base`) a key given twice gives -1 too; the user's own keys are its names, which user() looks through itself.
   */
  private key(at: number, base: number): number {
    const text = this.text;
    if (text.charCodeAt(at) !== QUOTE) return -1;
    const end = this.string(at);
    if (end < 0 || text.charCodeAt(end) !== COLON) return -1;
    const from = at + 1;
    const first = text.charCodeAt(from);
    if (first >= 48 && first <= 57) return -1; // maybe an array index
    if (base < 0) return end + 1;
    // Only the escapes JSON.stringify writes got here: the same key is the same text.
    const length = end - 1 - from;
    for (let k = base; k < keyCount; k++) {
      const other = keyStarts[k]!;
      if (keyEnds[k]! - other === length && sameText(text, other, from, length)) return -1;
    }
    keyStarts[keyCount] = from;
    keyEnds[keyCount] = end - 1;
    keyCount++;
    return end + 1;
  }

  /**
   * The name whose key's text is at [from, to): the same string as the user before's. The names come in the server's
   * order, so the next one is looked for where the last was found, or a few further on when this user lacks some.
   */
  private nameOf(from: number, to: number): string {
    const text = this.text;
    if (!this.escaped) {
      for (let k = this.nextName, stop = Math.min(k + 4, lastNames.length); k < stop; k++) {
        const last = lastNames[k]!;
        if (last.length === to - from && text.startsWith(last, from)) {
          this.nextName = k + 1;
          this.inOrder = true;
          return last;
        }
      }
    }
    this.inOrder = false;
    const raw = text.slice(from, to);
    return sharedName(this.escaped ? (JSON.parse(`"${raw}"`) as string) : raw);
  }

  /** Whether the user gave property `name` before (JSON.parse would keep the last). */
  private givenTwice(name: string): boolean {
    if (this.inOrder) {
      if (namesOutOfOrder.length && namesOutOfOrder.includes(name)) return true;
    } else {
      if (userNames.includes(name)) return true;
      namesOutOfOrder.push(name);
    }
    userNames.push(name);
    return false;
  }

  private value(at: number, depth: number): number {
    const text = this.text;
    const c = text.charCodeAt(at);
    if (c === QUOTE) return this.string(at);
    if (c === LBRACE) return this.object(at, depth + 1, false);
    if (c === LBRACKET) return this.array(at, depth + 1);
    if (c === 116) return text.startsWith('true', at) ? at + 4 : -1;
    if (c === 102) return text.startsWith('false', at) ? at + 5 : -1;
    if (c === 110) return text.startsWith('null', at) ? at + 4 : -1;
    return this.number(at);
  }

  /** `capturesId`: the object is configurationId, whose `id` the pass keeps when it is a string. */
  private object(at: number, depth: number, capturesId: boolean): number {
    if (depth > MAX_DEPTH) return -1;
    const text = this.text;
    if (text.charCodeAt(at + 1) === RBRACE) return at + 2;
    const base = keyCount;
    let next = at + 1;
    for (;;) {
      const start = this.key(next, base);
      if (start < 0) return -1;
      const end = this.value(start, depth);
      if (end < 0) return -1;
      // `"id":` is 5 characters.
      if (capturesId && start - next === 5 && text.startsWith('"id"', next) && text.charCodeAt(start) === QUOTE) {
        this.idStart = start;
        this.idEnd = end;
      }
      const c = text.charCodeAt(end);
      if (c === COMMA) {
        next = end + 1;
        continue;
      }
      keyCount = base;
      return c === RBRACE ? end + 1 : -1;
    }
  }

  private array(at: number, depth: number): number {
    if (depth > MAX_DEPTH) return -1;
    const text = this.text;
    if (text.charCodeAt(at + 1) === RBRACKET) return at + 2;
    let next = at + 1;
    for (;;) {
      const end = this.value(next, depth);
      if (end < 0) return -1;
      const c = text.charCodeAt(end);
      if (c === COMMA) {
        next = end + 1;
        continue;
      }
      return c === RBRACKET ? end + 1 : -1;
    }
  }

  /**
   * Past the string at `at` (its opening quote), jumping from quote to quote; -1 with a character or an escape
   * JSON.stringify does not write.
   */
  private string(at: number): number {
    const text = this.text;
    let close = text.indexOf('"', at + 1);
    if (close === -1) return -1;
    this.escaped = false;
    for (let b = nextAt(backslash, at + 1); b < close; b = nextAt(backslash, b + 2)) {
      const e = text.charCodeAt(b + 1);
      // JSON.stringify writes these escapes (and \u00xx for other control characters, never mind: rare).
      if (e !== QUOTE && e !== BACKSLASH && e !== 98 && e !== 102 && e !== 110 && e !== 114 && e !== 116) return -1;
      this.escaped = true;
      if (close === b + 1) {
        close = text.indexOf('"', b + 2);
        if (close === -1) return -1;
      }
    }
    return nextAt(notWritten, at + 1, NOT_WRITTEN) < close ? -1 : close + 1;
  }

  /** Past the number at `at`, when it is in the form JSON.stringify writes (String of the number it reads as). */
  private number(at: number): number {
    const text = this.text;
    let end = at;
    let integer = true;
    for (;;) {
      const d = text.charCodeAt(end);
      if (d >= 48 && d <= 57) end++;
      else if (d === 45 && end === at) end++;
      else if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45) {
        integer = false;
        end++;
      } else break;
    }
    const digits = text.charCodeAt(at) === 45 ? at + 1 : at;
    // An integer of up to 15 digits (below 2^53) is written as its digits, without a leading zero; -0 as 0.
    if (integer && end > digits && end - digits <= 15) {
      if (text.charCodeAt(digits) !== 48) return end;
      return end - digits === 1 && digits === at ? end : -1;
    }
    const number = text.slice(at, end);
    return number !== '' && String(Number(number)) === number ? end : -1;
  }
}

function sameText(text: string, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (text.charCodeAt(a + i) !== text.charCodeAt(b + i)) return false;
  return true;
}

/** The JSON type of the value starting with `c` (not null). */
function typeAt(c: number): JsonType {
  if (c === QUOTE) return 'string';
  if (c === LBRACE) return 'object';
  if (c === LBRACKET) return 'array';
  if (c === 116 || c === 102) return 'boolean';
  return 'number';
}

/**
 * The one copy of a property name. A name sliced from a user's text would keep that text, and the piece of the
 * stream it came in, alive as long as the mirror holds the name (a key of each user's digests). Bounded: a source
 * sending ever new names costs a fresh copy each, not memory.
 */
const names = new Map<string, string>();
function sharedName(key: string): string {
  const known = names.get(key);
  if (known !== undefined) return known;
  // JSON.parse makes a string of its own, not a slice of the user's text.
  const own = JSON.parse(JSON.stringify(key)) as string;
  if (names.size < MAX_NAMES) names.set(own, own);
  return own;
}
