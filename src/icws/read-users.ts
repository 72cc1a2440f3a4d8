/**
 * The users of a full replace as the SSE reader reads them (message-stream.ts), each once, into what the mirror
 * takes (src/mirror/input.ts): a new text is checked and held as its properties' stored text, read in one pass when
 * it is as JSON.stringify writes it (user-slices.ts), else parsed; a text the mirror says it holds unchanged
 * (KnownUserTexts) is not even read (docs/architecture.md "A re-sync costs what changed").
 */
import type { CheckedUser, KnownUserText } from '../mirror/input.js';
import { digestOf } from '../util/digest.js';
import { checkUser, PackedUser, type RejectedUser } from './check-user.js';
import { userSlices, userSlicesAt, type UserSlices } from './user-slices.js';
import { listElementProblem } from './parse.js';

/** A user of a full replace as read: checked, known to the mirror as its text, or refused (the user as read kept). */
export type ReadUser = CheckedUser | KnownText | (RejectedUser & { readonly user: unknown });

/**
 * A user of `added` whose text the mirror holds unchanged, kept as that text: parsed and checked only if it must be
 * planned after all (it changed since, or appears twice in the replace).
 */
export class KnownText implements KnownUserText {
  readonly kind = 'known';
  constructor(
    readonly id: string,
    readonly textDigest: number,
    private readonly text: string,
  ) {}

  read(): CheckedUser | string {
    const read = readAddedUser(this.text, 0, this.textDigest);
    if (read.problem !== undefined) return read.problem;
    const user = read.user;
    if (user.kind === 'checked') return user;
    return user.kind === 'rejected' ? user.problem : 'read as a known text again';
  }

  /** The user as ICWS sent it. */
  parse(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * Element `index` of an `added` list, from its text: checked into the mirror's form, or what makes the whole
 * message malformed (`problem`: not JSON, or a property of the wrong type; parse.ts).
 */
export function readAddedUser(
  text: string,
  index: number,
  textDigest: number,
): { user: ReadUser; problem?: undefined } | { problem: string; user?: undefined } {
  // Text as JSON.stringify writes it: read in one pass, each property's stored text its slice, nothing parsed or encoded.
  const slices = userSlices(text);
  if (slices) return { user: packedOf(slices, text, textDigest) };
  // Otherwise parsed, checked (which says what is wrong with it), encoded property by property, and packed: a full
  // replace holds its users until they are planned.
  let element: unknown;
  try {
    element = JSON.parse(text);
  } catch (err) {
    return { problem: `added[${index}] is not JSON (${(err as Error).message})` };
  }
  const problem = listElementProblem('added', index, element);
  if (problem) return { problem };
  const checked = checkUser(element, { keepNulls: false, textDigest });
  return { user: checked.kind === 'checked' ? PackedUser.of(checked) : { ...checked, user: element } };
}

/**
 * The element of an `added` list that starts at `at` in a piece of the stream, when it is a user as JSON.stringify
 * writes it, followed by the `,` or `]` after it in the same piece: read in the one pass that finds where it ends
 * (user-slices.ts), its properties left as slices of the piece, with the digest of its text. Undefined otherwise: the
 * caller reads the element's text when it has all of it (readAddedUser).
 */
export function readAddedUserAt(piece: string, at: number): { user: ReadUser; end: number } | undefined {
  const slices = userSlicesAt(piece, at);
  if (slices === undefined) return undefined;
  const { end } = slices;
  const next = piece.charCodeAt(end);
  if (next !== 44 /* , */ && next !== 93 /* ] */) return undefined;
  return { user: packedOf(slices, piece, digestOf(piece.slice(at, end))), end };
}

/** A user read in one pass, held as slices of `text` (the pass's positions are in it). */
function packedOf(slices: UserSlices, text: string, textDigest: number): PackedUser {
  return new PackedUser(slices.id, slices.names, text, slices.starts, slices.ends, textDigest, undefined);
}

/** The user as ICWS sent it, for a message that turned out not to be a full replace (its lists stay ICWS users). */
export function sentUserOf(user: ReadUser): unknown {
  switch (user.kind) {
    case 'checked': {
      const record: Record<string, unknown> = {};
      for (const [key, json] of user.props) record[key] = json === null ? null : JSON.parse(json);
      return record;
    }
    case 'known':
      return user.parse();
    case 'rejected':
      return user.user;
  }
}
