/**
 * The digest of the text each user of a streamed `added` list arrived as (message-stream.ts), kept on the parsed
 * user as a hidden property (not enumerable: invisible to JSON.stringify, Object.keys and comparisons). The mirror
 * skips a user of a full replace whose text is exactly what it was at the previous full replace and that nothing
 * changed since: most of a re-sync, without encoding or comparing a single property (docs/architecture.md).
 */
import { digestOf } from '../util/digest.js';

const TEXT_DIGEST = Symbol('icwatch.textDigest');

export function rememberTextDigest(user: unknown, text: string): void {
  if (user !== null && typeof user === 'object') Object.defineProperty(user, TEXT_DIGEST, { value: digestOf(text) });
}

/** The digest of the text `user` arrived as, when it came through a streamed list. */
export function textDigestOf(user: unknown): number | undefined {
  return user !== null && typeof user === 'object' ? ((user as { [TEXT_DIGEST]?: number })[TEXT_DIGEST] ?? undefined) : undefined;
}
