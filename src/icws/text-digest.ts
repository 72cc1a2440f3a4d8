/**
 * The digest of the text each user of a streamed `added` list arrived as (message-stream.ts). The mirror skips a
 * user of a full replace whose text is exactly what its previous full replace carried and that nothing changed
 * since: most of a re-sync, without encoding or comparing a single property (docs/architecture.md). A parsed user
 * keeps its digest as a hidden property (not enumerable: invisible to JSON.stringify, Object.keys and comparisons).
 * A full replace carries its users as UserText: checked when read, but kept as text until the writer plans them.
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
 * A user of a full replace as the text it arrived as. The parsed object is not held while the rest of the directory
 * arrives: a directory's worth of parsed users would outlive the young generation and leave the old one full of
 * garbage when the replace ends (docs/architecture.md, "Big directories"). The writer parses it when it plans it,
 * or not at all when the mirror holds the same text unchanged.
 */
export class UserText {
  constructor(
    readonly id: string,
    readonly digest: number,
    readonly text: string,
  ) {}

  /** The user itself (it was checked when this text was read). */
  parse(): unknown {
    const user: unknown = JSON.parse(this.text);
    rememberTextDigest(user, this.digest);
    return user;
  }
}
