/**
 * Every Redis key name of one mirror, built in one place (PRODUCT.md §5). All keys share the hash tag {prefix}
 * so that a mirror lives in one Cluster slot and Lua scripts may touch any of them.
 */
export interface MirrorKeys {
  readonly prefix: string;
  user(id: string): string;
  readonly ids: string;
  index(property: string): string;
  readonly meta: string;
  readonly changes: string;
  readonly notify: string;
  /** Scratch SET of the ids seen by the full replace under way (removed when it finishes). */
  readonly syncSeen: string;
  /** What precedes the id in a user key, for scripts that build user keys themselves. */
  readonly userKeyPrefix: string;
  readonly indexKeyPrefix: string;
}

export function mirrorKeys(prefix: string): MirrorKeys {
  const tag = `{${prefix}}`;
  return {
    prefix,
    user: (id) => `${tag}:user:${id}`,
    ids: `${tag}:ids`,
    index: (property) => `${tag}:idx:${property}`,
    meta: `${tag}:meta`,
    changes: `${tag}:changes`,
    notify: `${tag}:notify`,
    syncSeen: `${tag}:sync:seen`,
    userKeyPrefix: `${tag}:user:`,
    indexKeyPrefix: `${tag}:idx:`,
  };
}
