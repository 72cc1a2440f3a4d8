/**
 * The delete guard (README "Mass deletions are held"): a message that would remove more users than
 * `mirror.deleteGuard` allows is applied without those removals, and the users stay, held in `{P}:held` with
 * `{P}:held:info` (when, why, how many). Directory-sync tools guard the same way (Azure AD Connect's "prevent
 * accidental deletes" stops an export that deletes more than 500 objects until an operator allows it): a nearly empty
 * full replace usually means the service account's rights or the rightsFilter changed, not that people left.
 *
 * A held user leaves the hold when ICWS shows it again (a delta adds or changes it, a full replace carries it), or by
 * the operator's word (`icwatch removals --apply`: ordinary remove entries; `--discard`: the users stay). Meanwhile a
 * message that removes it again changes nothing, and the removals of other users are judged on their own.
 *
 * The writer plans against this memory as against the users (src/mirror/state.ts): each hold or release is recorded
 * in the chunk (ChunkBuilder.markHeld), written by the apply script with the chunk's entries, and reloaded from
 * Redis with the mirror.
 */
import type { ChunkBuilder } from './chunk-builder.js';

export interface DeleteGuardLimits {
  /** Removals one message may make at most; 0 turns the guard off. */
  maxRemovals: number;
  /** Share of the mirror one message may remove at most (mirrors of at least minUsers users). */
  maxFraction: number;
  minUsers: number;
}

/** Where a hold came from. */
export type HoldOrigin = 'full replace' | 'delta';

/** The fields of `{P}:held:info`, as read back. */
export interface HeldInfo {
  /** ms since the epoch: when the hold began, and when a message last held (or still omitted) its users. */
  since?: number;
  updatedAt?: number;
  origin?: string;
  why?: string;
  /** The removals the message that last held users would have made, and the mirror's users then. */
  removals?: number;
  users?: number;
  /** Users held now (the apply script keeps it). */
  count?: number;
  /** An operator's pending request (`apply:<token>` / `discard:<token>`, `taken:…` once the leader took it). */
  request?: string;
}

export function parseHeldInfo(hash: Record<string, string>): HeldInfo {
  const num = (v: string | undefined) => (v === undefined || v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v));
  return {
    since: num(hash.since),
    updatedAt: num(hash.updatedAt),
    origin: hash.origin,
    why: hash.why,
    removals: num(hash.removals),
    users: num(hash.users),
    count: num(hash.count),
    request: hash.request,
  };
}

export class HeldRemovals {
  readonly ids = new Set<string>();

  constructor(private readonly limits: DeleteGuardLimits | undefined) {}

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Why removing `removals` users of a mirror of `users` is too many at once, or undefined when they may go. */
  excess(removals: number, users: number): string | undefined {
    const l = this.limits;
    if (!l || l.maxRemovals === 0 || removals === 0) return undefined;
    if (removals > l.maxRemovals) return `more than mirror.deleteGuard.maxRemovals (${l.maxRemovals})`;
    if (users >= l.minUsers && removals > l.maxFraction * users) {
      return `more than mirror.deleteGuard.maxFraction (${l.maxFraction}) of them`;
    }
    return undefined;
  }

  /**
   * Holds the removal of `ids` (users the mirror holds, not held yet) that a message would have made. Returns the
   * text the error log and `{P}:held:info` give.
   */
  hold(b: ChunkBuilder, ids: readonly string[], origin: HoldOrigin, users: number, why: string): string {
    const now = Date.now();
    const first = this.ids.size === 0;
    for (const id of ids) {
      this.ids.add(id);
      b.markHeld(id, true);
    }
    const text = `a ${origin} would remove ${ids.length} of the mirror's ${users} users: ${why}`;
    b.setHeldInfo({ ...(first ? { since: now } : {}), updatedAt: now, origin, why: text, removals: ids.length, users });
    b.heldNotes.push({
      level: 'error',
      message: `held ${ids.length} removals: ${text}; the users stay in the mirror, held (icwatch removals --list, then --apply or --discard)`,
      fields: { removals: ids.length, users, held: this.ids.size },
    });
    return text;
  }

  /** The user is shown again (or removed by the operator's word): it is held no more. */
  release(b: ChunkBuilder, id: string): void {
    if (this.ids.size === 0 || !this.ids.delete(id)) return;
    b.markHeld(id, false);
  }

  /** A full replace still omits held users: the hold stays, and says when it was last confirmed. */
  confirmed(b: ChunkBuilder, omitted: number): void {
    b.setHeldInfo({ updatedAt: Date.now() });
    b.heldNotes.push({
      level: 'info',
      message: `the full replace still omits ${omitted} of the ${this.ids.size} users whose removal is held; they stay held`,
      fields: { omitted, held: this.ids.size },
    });
  }

  /** Memory as Redis holds it (after a load): only ids of users the mirror holds. */
  loaded(ids: Iterable<string>): void {
    this.ids.clear();
    for (const id of ids) this.ids.add(id);
  }
}

/** An operator's request to the leader (`icwatch removals --apply | --discard`), as `{P}:held:info` field `request`. */
export interface HeldRequest {
  action: 'apply' | 'discard';
  /** `<action>:<token>`: what the CLI wrote. */
  value: string;
}

const TAKEN = 'taken:';

/** The request a `request` field holds (pending, or taken by a leader that may not have finished it). */
export function parseHeldRequest(field: string | null | undefined): HeldRequest | undefined {
  if (!field) return undefined;
  const value = field.startsWith(TAKEN) ? field.slice(TAKEN.length) : field;
  const action = value.split(':', 1)[0];
  return action === 'apply' || action === 'discard' ? { action, value } : undefined;
}

/** The field's value once the leader took the request. */
export const takenValue = (request: HeldRequest | string): string => TAKEN + (typeof request === 'string' ? request : request.value);
