/**
 * The digest of the text each user of a streamed `added` list arrived as (message-stream.ts). The mirror skips a
 * user of a full replace whose text is exactly what its previous full replace carried and that nothing changed
 * since: most of a re-sync, without encoding or comparing a single property (docs/architecture.md). A parsed user
 * keeps its digest as a hidden property (not enumerable: invisible to JSON.stringify, Object.keys and comparisons).
 * A full replace carries its users as UserText: checked and encoded when read, or kept as the text the mirror knows.
 */
const TEXT_DIGEST = Symbol('icwatch.textDigest');

/** The id of the user whose last full replace carried it as text of this digest, if the mirror holds it so still. */
export type KnownTextLookup = (digest: number) => string | undefined;

export function rememberTextDigest(user: unknown, digest: number): void {
  if (user !== null && typeof user === 'object') Object.defineProperty(user, TEXT_DIGEST, { value: digest });
}

/** The digest of the text `user` arrived as, when it came through a streamed list. */
export function textDigestOf(user: unknown): number | undefined {
  if (user instanceof UserText) return user.digest;
  return user !== null && typeof user === 'object' ? ((user as { [TEXT_DIGEST]?: number })[TEXT_DIGEST] ?? undefined) : undefined;
}

/**
 * A user of a streamed `added` list, held until the writer plans it. Not the parsed object: a directory's worth of
 * parsed users would outlive the young generation and leave the old one full of garbage when the replace ends
 * (docs/architecture.md, "Big directories"). Either:
 * - checked: its properties' JSON as the mirror stores them (encode-user.ts), joined in one string, so that
 *   planning it needs neither a second parse nor a second encoding; or
 * - unchecked: a user whose text the mirror holds unchanged, kept as that text, and parsed only if it must be
 *   planned after all (it changed since, or appears twice).
 */
export class UserText {
  private constructor(
    readonly id: string,
    readonly digest: number,
    private readonly text: string | undefined,
    private readonly keys: readonly string[] = [],
    /** The end of each property's JSON in `text`, for a checked user. */
    private readonly ends: readonly number[] | undefined = undefined,
  ) {}

  static unchecked(id: string, digest: number, text: string): UserText {
    return new UserText(id, digest, text);
  }

  /** `props` as encodeUser gives them for an added user (no nulls). */
  static checked(id: string, digest: number, props: ReadonlyMap<string, string | null>): UserText {
    const keys = [...props.keys()];
    const values: string[] = [];
    const ends: number[] = [];
    let end = 0;
    for (const json of props.values()) {
      const value = json ?? 'null'; // not for an added user: encodeUser drops its nulls
      values.push(value);
      ends.push((end += value.length));
    }
    return new UserText(id, digest, values.join(''), sharedKeys(keys), ends);
  }

  /** The properties as the mirror stores them, for a checked user (undefined: parse it). */
  props(): Map<string, string> | undefined {
    if (!this.ends) return undefined;
    const props = new Map<string, string>();
    let from = 0;
    for (let i = 0; i < this.ends.length; i++) {
      props.set(this.keys[i]!, this.text!.slice(from, this.ends[i]));
      from = this.ends[i]!;
    }
    return props;
  }

  /** The user itself (checked when it was read, or held unchanged by the mirror). */
  parse(): unknown {
    let user: unknown;
    if (this.ends) {
      const record: Record<string, unknown> = {};
      for (const [key, json] of this.props()!) record[key] = JSON.parse(json);
      user = record;
    } else {
      user = JSON.parse(this.text!);
    }
    rememberTextDigest(user, this.digest);
    return user;
  }
}

/** Users of one directory mostly have the same properties: the same list of names is held once. */
let lastKeys: readonly string[] = [];
function sharedKeys(keys: string[]): readonly string[] {
  if (keys.length === lastKeys.length && keys.every((k, i) => k === lastKeys[i])) return lastKeys;
  return (lastKeys = keys);
}
