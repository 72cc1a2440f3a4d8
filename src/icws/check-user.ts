/**
 * An ICWS user (docs/icws.md "User property shapes") checked into what the mirror takes at its door
 * (src/mirror/input.ts): its id, and each property as the text the mirror stores (src/mirror/encode.ts). Malformed
 * users are reported, not thrown, so one bad user never stops a message.
 */
import { encodeValue } from '../mirror/encode.js';
import type { CheckedUser, RefusedUser, UserProps } from '../mirror/input.js';
import { parseIcwsDate } from './dates.js';

/** A user that cannot be used, and why (logged and skipped: "skipped malformed user …"). */
export type RejectedUser = RefusedUser;

export interface CheckOptions {
  /** A delta's `changed` keeps nulls (= cleared); an add or a full replace (which carry every set property) drops them. */
  keepNulls: boolean;
  /** The digest of the text the user arrived as (util/digest.ts digestOf), when a full replace read it as text. */
  textDigest?: number;
  /** Read lastModifiedDate as a date, for icwatch_source_lag_seconds (deltas: a full replace's dates may be years old). */
  modifiedAt?: boolean;
}

export function checkUser(user: unknown, options: CheckOptions): CheckedUser | RejectedUser {
  if (user === null || typeof user !== 'object' || Array.isArray(user)) return rejected('?', `expected a user object, got ${describe(user)}`);
  const record = user as Record<string, unknown>;
  const cid = record.configurationId as { id?: unknown } | null | undefined;
  const id = cid && typeof cid === 'object' ? cid.id : undefined;
  if (typeof id !== 'string' || id === '') return rejected('?', `configurationId.id missing or not a non-empty string (got ${describe(id)})`);
  const props = new Map<string, string | null>();
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value === null || value === undefined) {
      if (key === 'configurationId') return rejected(id, 'configurationId given as null');
      if (options.keepNulls && value === null) props.set(key, null);
      continue;
    }
    const encoded = encodeValue(key, value);
    if (typeof encoded !== 'string') return rejected(id, encoded.problem);
    props.set(key, encoded);
  }
  const modifiedAt = options.modifiedAt ? parseIcwsDate(record.lastModifiedDate) : undefined;
  return new UserOfProps(id, props, options.textDigest, modifiedAt);
}

/** A checked user as a map of its properties (a delta's with the nulls of cleared properties): planned soon after. */
class UserOfProps implements CheckedUser {
  readonly kind = 'checked';
  constructor(
    readonly id: string,
    readonly props: UserProps,
    readonly textDigest: number | undefined,
    readonly modifiedAt: number | undefined,
  ) {}
}

/**
 * A checked user without nulls (an add, a user of a full replace) held packed until the writer plans it: its
 * properties' texts as ranges of one string, the names shared with the users before it. A full replace holds a whole
 * directory of them until it is planned; as maps and strings per property they would outlive the young generation
 * and leave the old one full of garbage when the replace ends (docs/architecture.md, "Big directories").
 */
export class PackedUser implements CheckedUser {
  readonly kind = 'checked';
  private readonly names: readonly string[];

  /** `text`: every property's text at [starts[i], ends[i]) (the joined texts, or the user's own text, user-slices.ts). */
  constructor(
    readonly id: string,
    names: string[],
    private readonly text: string,
    private readonly starts: readonly number[],
    private readonly ends: readonly number[],
    readonly textDigest: number | undefined,
    readonly modifiedAt: number | undefined,
  ) {
    this.names = sharedNames(names);
  }

  /** A checked user (without nulls) packed to be held. */
  static of(user: CheckedUser): PackedUser {
    const names: string[] = [];
    const texts: string[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let end = 0;
    for (const [name, text] of user.props) {
      names.push(name);
      texts.push(text!);
      starts.push(end);
      ends.push((end += text!.length));
    }
    return new PackedUser(user.id, names, texts.join(''), starts, ends, user.textDigest, user.modifiedAt);
  }

  /** A new map each time: the planner reads it once, and it dies young. */
  get props(): UserProps {
    const props = new Map<string, string>();
    for (let i = 0; i < this.ends.length; i++) props.set(this.names[i]!, this.text.slice(this.starts[i], this.ends[i]));
    return props;
  }
}

/** Users of one directory mostly have the same properties: the same list of names is held once. */
let lastNames: readonly string[] = [];
function sharedNames(names: string[]): readonly string[] {
  if (names === lastNames) return names;
  if (names.length === lastNames.length && names.every((name, i) => name === lastNames[i])) return lastNames;
  return (lastNames = names);
}

const rejected = (id: string, problem: string): RejectedUser => ({ kind: 'rejected', id, problem });

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return typeof value;
}
