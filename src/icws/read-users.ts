/**
 * The users of a full replace as the SSE reader reads them (message-stream.ts), each once, into what the mirror
 * takes (src/mirror/input.ts): a new text is parsed to be checked and held as its properties' stored text; a text
 * the mirror says it holds unchanged (KnownUserTexts) is not even parsed (docs/architecture.md "A re-sync costs what
 * changed").
 */
import type { CheckedUser, KnownUserText } from '../mirror/input.js';
import { checkUser, PackedUser, type RejectedUser } from './check-user.js';
import type { User } from './messages.js';
import { userSlices } from './user-slices.js';
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
  let element: unknown;
  try {
    element = JSON.parse(text);
  } catch (err) {
    return { problem: `added[${index}] is not JSON (${(err as Error).message})` };
  }
  const problem = listElementProblem('added', index, element);
  if (problem) return { problem };
  // Text as JSON.stringify writes it: each property's stored text is its slice, nothing to encode.
  const id = (element as User).configurationId.id;
  const slices = id !== '' ? userSlices(text) : undefined;
  if (slices) {
    const { names, starts, ends } = slices;
    // A property given as null is not set (checkUser drops it too).
    for (let i = names.length - 1; i >= 0; i--) {
      if (ends[i]! - starts[i]! === 4 && text.startsWith('null', starts[i])) {
        names.splice(i, 1);
        starts.splice(i, 1);
        ends.splice(i, 1);
      }
    }
    return { user: new PackedUser(id, names, text, starts, ends, textDigest, undefined) };
  }
  // Otherwise encoded property by property, and packed: a full replace holds its users until they are planned.
  const checked = checkUser(element, { keepNulls: false, textDigest });
  return { user: checked.kind === 'checked' ? PackedUser.of(checked) : { ...checked, user: element } };
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
