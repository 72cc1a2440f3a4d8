/**
 * A queued message's text. Most are one string; a full replace of a big directory is made piece by piece as the
 * stream takes it (a few hundred users per piece), so the first users are on the wire while the rest are still
 * being encoded, and the whole text never exists as one string of hundreds of MB. The users are projected when
 * the message is queued: later changes to the directory replace values rather than mutate them, so the pieces
 * still read the directory as it was then.
 */

/** Users encoded per piece of a full replace. */
export const USERS_PER_PIECE = 500;

export interface MessageText {
  /** The text in order, in pieces whose concatenation is the message. */
  pieces(): Iterable<string>;
}

export function wholeText(text: MessageText | string): string {
  return typeof text === 'string' ? text : [...text.pieces()].join('');
}

/** `{...fields, [listKey]: items}` as JSON.stringify writes it, `items` encoded lazily, USERS_PER_PIECE at a time. */
export class ListMessageText<T = unknown> implements MessageText {
  constructor(
    private readonly fields: Record<string, unknown>,
    private readonly listKey: string,
    private readonly items: readonly T[],
    private readonly encode: (item: T) => string,
  ) {}

  *pieces(): Generator<string> {
    const head = JSON.stringify(this.fields);
    yield `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}${JSON.stringify(this.listKey)}:[`;
    for (let i = 0; i < this.items.length; i += USERS_PER_PIECE) {
      const piece = this.items.slice(i, i + USERS_PER_PIECE).map(this.encode);
      yield (i ? ',' : '') + piece.join(',');
    }
    yield ']}';
  }
}
