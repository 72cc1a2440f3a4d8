/**
 * An ICWS user (docs/icws.md "User property shapes") checked into what the mirror takes at its door
 * (src/mirror/input.ts): its id, and each property as the text the mirror stores (src/mirror/encode.ts). Malformed
 * users are reported, not thrown, so one bad user never stops a message.
 */
import { encodeValue } from '../mirror/encode.js';
import type { CheckedUser } from '../mirror/input.js';
import { parseIcwsDate } from './dates.js';

/** A user that cannot be used, and why (logged and skipped: "skipped malformed user …"). */
export interface RejectedUser {
  readonly kind: 'rejected';
  readonly id: string;
  readonly problem: string;
}

export interface CheckOptions {
  /** A delta's `changed` keeps nulls (= cleared); an add or a full replace (which carry every set property) drops them. */
  keepNulls: boolean;
  /** The digest of the text the user arrived as (util/digest.ts textDigest), when a full replace read it as text. */
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
    if (!encoded.ok) return rejected(id, encoded.problem);
    props.set(key, encoded.json);
  }
  // One shape for every user (absent fields undefined): a directory's users are made by the same code, kept monomorphic.
  return { kind: 'checked', id, props, textDigest: options.textDigest, modifiedAt: options.modifiedAt ? parseIcwsDate(record.lastModifiedDate) : undefined };
}

const rejected = (id: string, problem: string): RejectedUser => ({ kind: 'rejected', id, problem });

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return typeof value;
}
