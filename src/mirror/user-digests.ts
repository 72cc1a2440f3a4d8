/**
 * What the writer's memory keeps of one user (state.ts): the digest of each property's JSON, and of the text its last
 * full replace carried it as. Kept compact, as a directory has 100k users or more: the digests are one array of
 * numbers (stored unboxed, where a Map boxes each one as a heap number), under an array of property names shared by
 * every user that has the same properties in the same order (a Shape, as JavaScript engines share hidden classes).
 * A user costs about a third of the memory of a Map, and is built faster (README "Big directories").
 */

/** No text: the user changed since a full replace carried it (digests are non-negative). */
export const NO_TEXT = -1;

/** Shapes shared at most: past this (a source sending ever new names or orders) a user's names are its own. */
export const MAX_SHAPES = 10_000;

/** Property names in the order some users have them; `next`: the shape with one more name after them. */
class Shape {
  next: Map<string, Shape> | undefined;
  constructor(readonly names: readonly string[]) {}
}

const EMPTY = new Shape([]);
let shapes = 1;

/** The shape of `shape`'s names followed by `name`. */
function withName(shape: Shape, name: string): Shape {
  const known = shape.next?.get(name);
  if (known) return known;
  const grown = new Shape([...shape.names, name]);
  if (shapes < MAX_SHAPES) {
    (shape.next ??= new Map()).set(name, grown);
    shapes++;
  }
  return grown;
}

export class UserDigests {
  private shape = EMPTY;
  private readonly digests: number[] = [];
  /**
   * The digest of the text its last full replace carried it as, while nothing changed it since (KnownUserTexts,
   * input.ts); NO_TEXT once something did, or when it came otherwise.
   */
  text = NO_TEXT;
  /** The last full replace that carried it (MirrorState.beginReplace), 0 for none. */
  carriedBy = 0;

  get size(): number {
    return this.digests.length;
  }

  get(name: string): number | undefined {
    const at = this.shape.names.indexOf(name);
    return at === -1 ? undefined : this.digests[at];
  }

  has(name: string): boolean {
    return this.shape.names.indexOf(name) !== -1;
  }

  /** Its property names: shared, never changed in place (a change gives the user another array). */
  keys(): readonly string[] {
    return this.shape.names;
  }

  set(name: string, digest: number): void {
    const at = this.shape.names.indexOf(name);
    if (at === -1) this.add(name, digest);
    else this.digests[at] = digest;
  }

  /** A property it does not have yet (the caller knows: a user being built from distinct names). */
  add(name: string, digest: number): void {
    this.shape = withName(this.shape, name);
    this.digests.push(digest);
  }

  delete(name: string): void {
    const names = this.shape.names;
    const at = names.indexOf(name);
    if (at === -1) return;
    let shape = EMPTY;
    for (let i = 0; i < names.length; i++) if (i !== at) shape = withName(shape, names[i]!);
    this.shape = shape;
    this.digests.splice(at, 1);
  }
}
