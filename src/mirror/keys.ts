/**
 * Every Redis key name of one mirror, built in one place (README: The Redis mirror). All keys share the hash tag {prefix}
 * so that a mirror lives in one Cluster slot and Lua scripts may touch any of them.
 */
export interface MirrorKeys {
  readonly prefix: string;
  user(id: string): string;
  readonly ids: string;
  /** A user's status (presence): one field per status property that is set, JSON-encoded as for users. */
  status(id: string): string;
  /** The status catalogue (presence): statusId → the catalogue entry's JSON. */
  readonly statuses: string;
  index(property: string): string;
  readonly meta: string;
  readonly changes: string;
  readonly notify: string;
  /** The leader lease (high availability): a string holding the leader's replica id, with a TTL. */
  readonly leader: string;
  /** Pub/sub channel on which a leader that gives up its lease wakes the standbys. */
  readonly leaderReleased: string;
  /** Scratch SET of the ids seen by the full replace under way (removed when it finishes). */
  readonly syncSeen: string;
  /** SET of the ids whose removal the delete guard holds (src/mirror/held.ts); absent when none is held. */
  readonly held: string;
  /** HASH about the hold: when, why, how many, and an operator's pending request (`icwatch removals`). */
  readonly heldInfo: string;
  /** Pub/sub channel on which `icwatch removals --apply|--discard` wakes the leader's writer. */
  readonly heldRequests: string;
  /** What precedes the id in a user key, for scripts that build user keys themselves. */
  readonly userKeyPrefix: string;
  /** What precedes the id in a status key. */
  readonly statusKeyPrefix: string;
  readonly indexKeyPrefix: string;
}

export function mirrorKeys(prefix: string): MirrorKeys {
  const tag = `{${prefix}}`;
  return {
    prefix,
    user: (id) => `${tag}:user:${id}`,
    ids: `${tag}:ids`,
    status: (id) => `${tag}:status:${id}`,
    statuses: `${tag}:statuses`,
    index: (property) => `${tag}:idx:${property}`,
    meta: `${tag}:meta`,
    changes: `${tag}:changes`,
    notify: `${tag}:notify`,
    leader: `${tag}:leader`,
    leaderReleased: `${tag}:leader:released`,
    syncSeen: `${tag}:sync:seen`,
    held: `${tag}:held`,
    heldInfo: `${tag}:held:info`,
    heldRequests: `${tag}:held:requests`,
    userKeyPrefix: `${tag}:user:`,
    statusKeyPrefix: `${tag}:status:`,
    indexKeyPrefix: `${tag}:idx:`,
  };
}

/** The keys of the leader lease (README "High availability"): what src/ha's lease scripts are given. */
export type LeaseKeys = Pick<MirrorKeys, 'leader' | 'meta' | 'leaderReleased'>;

export function leaseKeys(prefix: string): LeaseKeys {
  const { leader, meta, leaderReleased } = mirrorKeys(prefix);
  return { leader, meta, leaderReleased };
}

/** Key names to show an operator (messages, `redis-cli` hints; README "The Redis mirror"), never to read with. */
export interface KeyNamesToShow {
  readonly meta: string;
  readonly changes: string;
}

export function keyNamesToShow(prefix: string): KeyNamesToShow {
  const { meta, changes } = mirrorKeys(prefix);
  return { meta, changes };
}
