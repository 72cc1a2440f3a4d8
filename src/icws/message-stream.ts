/**
 * One ICWS message read as its text arrives, piece by piece (a server-sent event's data): the user lists of a
 * usersMessage (`added`, `changed`, `removed`) are cut into their elements, and each element is read and checked
 * as soon as it is complete (a user of `added` in one pass, read-users.ts). So a full replace of a whole directory
 * never exists as one string, is never parsed in one blocking JSON.parse, and costs memory per user rather than per
 * message: the bound (icws.maxMessageBytes) applies to each user and to the rest of the message, not to the directory
 * (docs/architecture.md, "Big directories"); a full replace is even handed on while its users arrive (`onReplace`).
 * Everything else about the message is parsed by parse.ts as usual.
 */
import { listElementProblem, parseMessage, sampleOf, SAMPLE_CHARS, type ParseOutcome } from './parse.js';
import { digestOf } from '../util/digest.js';
import type { KnownUserTexts } from '../mirror/input.js';
import { KnownText, readAddedUser, readAddedUserAt, sentUserOf, type ReadUser } from './read-users.js';
import { ArrivingUsers } from './arriving-users.js';
import { checkUser } from './check-user.js';
import { USERS_MESSAGE, type UsersMessage } from './messages.js';

/** Users (or removed ids) one streamed message may carry at most: a bound on memory whatever a server sends. */
export const MAX_LIST_ELEMENTS = 5_000_000;

/**
 * The lists whose elements are read one by one: a usersMessage's, and a userStatusMessage's `userStatusList` (a full
 * replace of statuses lists every user of the mirror: docs/presence.md), each element checked by parse.ts.
 */
const LIST_KEYS = new Set(['added', 'changed', 'removed', 'userStatusList']);
const USER_LIST_KEYS = new Set(['added', 'changed', 'removed']);

/** A piece of a message past its bound: the message is refused (the caller asks a resync). */
export class MessageTooLargeError extends Error {
  constructor(readonly what: string) {
    super(what);
    this.name = 'MessageTooLargeError';
  }
}

const QUOTE = 34;
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** UTF-8 size of `parts` (at least their length in UTF-16 units: counted exactly only when that may matter). */
function bytesOf(parts: string[], chars: number, limit: number): number {
  if (chars * 3 <= limit) return chars;
  let bytes = 0;
  for (const p of parts) bytes += Buffer.byteLength(p);
  return bytes;
}

export class StreamedMessage {
  /** The message without its list elements (the lists left as `[]`). */
  private skeleton: string[] = [];
  private skeletonChars = 0;
  /** The list element being read, in pieces. */
  private element: string[] = [];
  private elementChars = 0;
  private readonly lists = new Map<string, unknown[]>();
  private problem: string | undefined;
  private head = '';
  private length = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** In the top-level object, where the next string is a key. */
  private expectKey = false;
  private key = '';
  private readingKey = false;
  /** The last key was a list key and its value has not started yet. */
  private listValueNext = false;
  /** The list whose elements are being read (depth 2 = inside it), or undefined. */
  private list: string | undefined;
  /** The element before the next `,` or `]` was read where it stood in the piece (readAddedUserAt). */
  private elementRead = false;
  /**
   * Users of `added` are read where they stand in each piece, in the one pass that also finds their end: unless the
   * mirror holds users, whose texts are then looked up first (the one pass costs more than finding the end).
   */
  private readonly readInPlace: boolean;
  /** A full replace handed on when its `added` list began (`onReplace`): its users go there as they are read. */
  private arriving: ArrivingUsers | undefined;
  /** Elements of `added` read so far, when they go to `arriving` rather than into the list. */
  private arrived = 0;

  /**
   * `knownUserTexts`: users of `added` whose text the mirror holds unchanged are not even parsed to be checked.
   * `onReplace`: told a full replace as soon as its `added` list begins, when the message said by then that it is one
   * (`__type`, `isDelta: false` and `subscriptionId` before `added`, as servers write it); its users then arrive in
   * `arrivingUsers` while the rest is read, and end() hands on nothing more (docs/architecture.md, "Big directories").
   */
  constructor(
    private readonly maxBytes: number,
    private readonly knownUserTexts?: KnownUserTexts,
    private readonly onReplace?: (message: UsersMessage) => void,
  ) {
    this.readInPlace = !knownUserTexts?.size;
  }

  /** The replace's users read ahead of the writer are at their bound: resolves once it took some (undefined: room). */
  room(): Promise<void> | undefined {
    return this.arriving?.room();
  }

  /** The stream ended within the message: a replace handed on already is cut short. */
  abandon(problem: string): void {
    this.arriving?.end({ complete: false, problem });
  }

  /** Whether anything was written (an SSE event without data carries no message). */
  get empty(): boolean {
    return this.length === 0;
  }

  /** The next piece of the message text. Throws MessageTooLargeError past a bound. */
  write(text: string): void {
    if (!text) return;
    if (this.head.length < SAMPLE_CHARS) this.head += text.slice(0, SAMPLE_CHARS - this.head.length);
    this.length += text.length;
    const n = text.length;
    let from = 0; // start of the run of `text` not yet handed to the skeleton or the element
    let keyFrom = this.readingKey ? 0 : -1;
    // The next backslash at or after i (n: none left). Searched again only once passed: most text has none, and
    // looking for one from every string start would scan the rest of the piece each time.
    let backslash = -1;
    for (let i = 0; i < n; i++) {
      if (this.escaped) {
        this.escaped = false;
        continue;
      }
      if (this.inString) {
        const q = text.indexOf('"', i);
        if (backslash < i) {
          backslash = text.indexOf('\\', i);
          if (backslash === -1) backslash = n;
        }
        const b = backslash < n ? backslash : -1;
        if (b !== -1 && (q === -1 || b < q)) {
          if (b + 1 < n) i = b + 1;
          else {
            this.escaped = true;
            i = n;
          }
          continue;
        }
        if (q === -1) {
          i = n;
          continue;
        }
        i = q;
        this.inString = false;
        if (this.readingKey) {
          this.key += text.slice(keyFrom, q);
          this.readingKey = false;
          keyFrom = -1;
        }
        continue;
      }
      const c = text.charCodeAt(i);
      if (isSpace(c)) continue;
      if (c === QUOTE) {
        this.inString = true;
        if (this.depth === 1 && this.expectKey) {
          this.readingKey = true;
          this.key = '';
          keyFrom = i + 1;
        }
        this.listValueNext = false;
        continue;
      }
      if (this.depth === 1) {
        if (c === 58 /* : */) {
          this.expectKey = false;
          this.listValueNext = LIST_KEYS.has(this.key);
          continue;
        }
        if (c === 44 /* , */) {
          this.expectKey = true;
          continue;
        }
      }
      if (this.list !== undefined && this.depth === 2 && (c === 44 /* , */ || c === 93) /* ] */) {
        if (this.elementRead) this.elementRead = false;
        else this.addElement(text.slice(from, i));
        from = c === 44 ? i + 1 : i;
        if (c === 93) {
          this.list = undefined;
          this.depth = 1;
        }
        continue;
      }
      // A user of `added` wholly in this piece is read where it stands, in one pass that also finds its end.
      if (c === 123 /* { */ && this.readInPlace && this.depth === 2 && from === i && this.list === 'added' && !this.element.length) {
        const end = this.readAddedAt(text, i);
        if (end !== -1) {
          i = end - 1;
          from = end;
          this.elementRead = true;
          continue;
        }
      }
      if (c === 123 /* { */ || c === 91 /* [ */) {
        if (this.depth === 0) this.expectKey = c === 123;
        this.depth++;
        if (this.depth === 2 && this.listValueNext && c === 91) {
          this.toSkeleton(text.slice(from, i + 1));
          from = i + 1;
          this.list = this.key;
          if (!this.lists.has(this.key)) this.lists.set(this.key, []);
          if (this.key === 'added' && this.onReplace && !this.arriving) this.handOnReplace();
        }
        this.listValueNext = false;
        continue;
      }
      if (c === 125 /* } */ || c === 93 /* ] */) this.depth--;
      this.listValueNext = false;
    }
    if (this.readingKey && keyFrom >= 0) this.key += text.slice(keyFrom);
    if (from < n) {
      if (this.list !== undefined) this.toElement(text.slice(from));
      else this.toSkeleton(text.slice(from));
    }
  }

  /** Whether the message is a full replace handed on as its users began (`onReplace`): end() only says how it ended. */
  get handedOn(): boolean {
    return this.arriving !== undefined;
  }

  /**
   * The message: parsed (lists read element by element), or malformed. A full replace handed on as it began ends
   * here: complete (the message, without its users), or cut short (malformed, saying why).
   */
  end(): ParseOutcome {
    const outcome = this.outcome();
    const arriving = this.arriving;
    if (!arriving) return outcome;
    const message = outcome.kind === 'message' ? (outcome.message as Partial<UsersMessage>) : undefined;
    if (message?.__type === USERS_MESSAGE && message.isDelta === false) {
      // Defensively, as for a replace read whole (mirror-input.ts): users in its `changed` follow those of `added`.
      for (const user of message.changed ?? []) {
        const checked = checkUser(user, { keepNulls: false });
        arriving.put(checked.kind === 'checked' ? checked : { ...checked, user });
      }
      arriving.end({ complete: true });
      return outcome;
    }
    const reason = outcome.kind === 'malformed' ? outcome.reason : 'it said isDelta: false before its users, and otherwise at its end';
    arriving.end({ complete: false, problem: `the message turned out malformed: ${reason}` });
    return outcome.kind === 'malformed' ? outcome : { kind: 'malformed', reason, sample: sampleOf(this.head), mayCarryChanges: true };
  }

  /** `added` began in a message that says it is a full replace: hand it on now, its users to arrive (`onReplace`). */
  private handOnReplace(): void {
    let head: unknown;
    try {
      head = JSON.parse(`${this.skeleton.join('')}]}`);
    } catch {
      return;
    }
    const { __type, isDelta, subscriptionId } = (head ?? {}) as Record<string, unknown>;
    if (__type !== USERS_MESSAGE || isDelta !== false || typeof subscriptionId !== 'string') return;
    this.arriving = new ArrivingUsers();
    this.onReplace!({ __type: USERS_MESSAGE, isDelta: false, subscriptionId, arrivingUsers: this.arriving });
  }

  private outcome(): ParseOutcome {
    const skeleton = this.skeleton.join('');
    if (this.depth !== 0 || this.inString || this.list !== undefined) {
      if (!this.lists.size) return parseMessage(skeleton); // not JSON: parse.ts says how
      return { kind: 'malformed', reason: 'not JSON (the message ends inside a user list)', sample: sampleOf(this.head), mayCarryChanges: true };
    }
    if (!this.lists.size) return parseMessage(skeleton);
    let value: unknown;
    try {
      value = JSON.parse(skeleton);
    } catch (err) {
      return { kind: 'malformed', reason: `not JSON (${(err as Error).message})`, sample: sampleOf(this.head), mayCarryChanges: true };
    }
    // Only a full replace carries its users as read (checked, or known to the mirror); anything else gets them as sent.
    // (null: an element that makes the message malformed, which parseMessage reports.)
    const added = this.lists.get('added') as (ReadUser | null)[] | undefined;
    const replace = (value as { isDelta?: unknown } | null)?.isDelta === false;
    if (added && !replace)
      this.lists.set(
        'added',
        added.map((user) => user && sentUserOf(user)),
      );
    if (added && replace) this.lists.delete('added');
    const readUsers = added && replace ? (added as ReadUser[]) : undefined;
    const outcome = parseMessage(value, { lists: this.lists, problem: this.problem, ...(readUsers ? { readUsers } : {}) });
    if (outcome.kind === 'message') return outcome;
    // Not a usersMessage after all (or a bad one): say so with the message's own beginning.
    return { ...outcome, sample: sampleOf(this.head) };
  }

  private toSkeleton(text: string): void {
    this.skeleton.push(text);
    this.skeletonChars += text.length;
    if (this.skeletonChars > this.maxBytes && bytesOf(this.skeleton, this.skeletonChars, this.maxBytes) > this.maxBytes) {
      throw new MessageTooLargeError(`a message (outside its user lists) larger than ${this.maxBytes} bytes`);
    }
  }

  private toElement(text: string): void {
    this.element.push(text);
    this.elementChars += text.length;
    if (this.elementChars > this.maxBytes) throw this.elementTooLarge();
  }

  private elementTooLarge(): MessageTooLargeError {
    return new MessageTooLargeError(`${this.list}[${this.lengthOf(this.lists.get(this.list!) ?? [])}] of a usersMessage larger than ${this.maxBytes} bytes`);
  }

  private addElement(last: string): void {
    this.element.push(last);
    this.elementChars += last.length;
    const parts = this.element;
    const chars = this.elementChars;
    this.element = [];
    this.elementChars = 0;
    const list = this.lists.get(this.list!)!;
    this.bound(list, parts, chars);
    const text = parts.length === 1 ? parts[0]! : parts.join('');
    if (this.lengthOf(list) === 0 && text.trim() === '') return; // an empty list: `[]`
    if (this.list === 'added') return this.putAdded(list, this.readAdded(text, this.lengthOf(list)));
    let element: unknown;
    try {
      element = JSON.parse(text);
    } catch (err) {
      this.problem ??= `${this.list}[${list.length}] is not JSON (${(err as Error).message})`;
      element = null;
    }
    // A status is checked with its message (read-statuses.ts); a user here.
    if (USER_LIST_KEYS.has(this.list!)) this.problem ??= listElementProblem(this.list!, list.length, element);
    list.push(element);
  }

  /** The user of `added` whose text starts at `at` in `piece`, read in one pass: where it ends, or -1 if it cannot be. */
  private readAddedAt(piece: string, at: number): number {
    const read = readAddedUserAt(piece, at);
    if (read === undefined) return -1;
    const list = this.lists.get('added')!;
    this.bound(list, [piece.slice(at, read.end)], read.end - at);
    this.putAdded(list, read.user);
    return read.end;
  }

  /** Elements of `list`, the list being read, so far (those of a replace handed on went to `arriving`). */
  private lengthOf(list: unknown[]): number {
    return this.arriving && this.list === 'added' ? this.arrived : list.length;
  }

  /** A user of `added` read (null: what made the message malformed), into the list or to the writer. */
  private putAdded(list: unknown[], user: ReadUser | null): void {
    if (!this.arriving) return void list.push(user);
    this.arrived++;
    if (user) this.arriving.put(user);
  }

  /** Throws MessageTooLargeError when the element (`parts`, `chars` long) or its list would pass a bound. */
  private bound(list: unknown[], parts: string[], chars: number): void {
    if (chars > this.maxBytes / 3 && bytesOf(parts, chars, this.maxBytes) > this.maxBytes) throw this.elementTooLarge();
    if (this.lengthOf(list) >= MAX_LIST_ELEMENTS) throw new MessageTooLargeError(`a usersMessage with more than ${MAX_LIST_ELEMENTS} elements in ${this.list}`);
  }

  /** A user of `added`, read once into what the mirror takes (read-users.ts); the parsed object dies young. */
  private readAdded(text: string, index: number): ReadUser | null {
    // digestOf, not the MD5 of util/digest.ts textDigest: on user texts of a directory (about 800 bytes) it measured
    // five times faster, and a full replace digests every user.
    const digest = digestOf(text);
    const known = this.knownUserTexts?.idOf(digest);
    // The text must name the user the digest points at: two users' texts sharing a digest cannot be taken for each other.
    if (known !== undefined && text.includes(known)) return new KnownText(known, digest, text);
    const read = readAddedUser(text, index, digest);
    if (read.problem !== undefined) {
      this.problem ??= read.problem;
      return null;
    }
    return read.user;
  }
}
