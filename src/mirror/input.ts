/**
 * The mirror's front door: the one input its writer takes, whatever the source read. Users come checked by the source
 * (src/icws), as the JSON text the mirror stores of each property (encode.ts), so that the mirror never parses or
 * encodes; the source checks each one once, as it reads it or when the writer plans it (a delta, a polled replace),
 * and depends on these types, not the other way round (docs/architecture.md, "Who owns what").
 */

/** property → the JSON text the mirror stores (encode.ts); `null`, in a delta's `changed` only, = the property was cleared. */
export type UserProps = ReadonlyMap<string, string | null>;

/** A user read and checked: its id and its properties as the mirror stores them. */
export interface CheckedUser {
  readonly kind: 'checked';
  readonly id: string;
  /** Read once per planning: a source may hold its users packed and make the map when asked. */
  readonly props: UserProps;
  /** The digest of the text the user arrived as, when a later full replace may ask KnownUserTexts about it. */
  readonly textDigest?: number;
  /** Its lastModifiedDate as ms since the epoch, when it has one the source could read (icwatch_source_lag_seconds). */
  readonly modifiedAt?: number;
}

/**
 * A user of a full replace that arrived as exactly the text the mirror said it holds unchanged (KnownUserTexts): not
 * read at all. `read()` reads it after all, for when it changed since (a delta came, or it appears twice in the
 * replace); a string is why it cannot be used.
 */
export interface KnownUserText {
  readonly kind: 'known';
  readonly id: string;
  readonly textDigest: number;
  read(): CheckedUser | string;
}

/** A user the source could not use, and why: skipped with a warning naming it (`?` when it has no id). */
export interface RefusedUser {
  readonly kind: 'rejected';
  readonly id: string;
  readonly problem: string;
}

/**
 * A user of a full replace checked only when the writer plans it: the users of a replace that arrived parsed (polling)
 * are read in the writer's bounded steps, not all at once on arrival (docs/architecture.md, "Big directories").
 */
export interface UserToRead {
  readonly kind: 'to-read';
  read(): CheckedUser | RefusedUser;
}

export type ReplaceUser = CheckedUser | KnownUserText | UserToRead;

/** What became of a full replace's message: read to its end, or cut short (and why: its removals are not applied). */
export type ReplaceEnd = { readonly complete: true } | { readonly complete: false; readonly problem: string };

/**
 * The users of a full replace, taken by the writer one by one, each once. A source that reads a replace user by user
 * (a server-sent event) hands it over as soon as it starts: the writer then plans and writes the users read so far
 * while the rest arrive, and a user planned is let go (docs/architecture.md, "Big directories"). The removals of
 * the users a replace omits wait for its end, and are not applied when it was cut short.
 */
export interface ReplaceUsers {
  /** The next user read and not yet taken; undefined when none waits now. */
  next(): ReplaceUser | undefined;
  /** How many users wait to be taken. */
  readonly waiting: number;
  /** How many may wait at most (the source reads no further until some are taken). */
  readonly readAhead: number;
  /** How many were taken: a replace planned again after a failed write cannot start over, they are gone. */
  readonly taken: number;
  /** How the source ended (no user comes after); undefined while more may come. Users may still wait to be taken. */
  readonly ended: ReplaceEnd | undefined;
  /** Resolves once a user waits or the replace ended. */
  whenMore(): Promise<void>;
  /**
   * Takes them again from the first, for a replace planned again after a failed write: whether it can (a list that
   * arrived whole can; users handed on as they arrived are gone once taken).
   */
  restart(): boolean;
  /** Nobody will take them (the replace was dropped before the writer began it): the source stops holding them. */
  drop(): void;
}

/** The users of a full replace that arrived whole: all there from the start. */
export class ListedUsers implements ReplaceUsers {
  readonly ended: ReplaceEnd = { complete: true };
  readonly readAhead = Infinity;
  private at = 0;

  constructor(private readonly users: readonly ReplaceUser[]) {}

  next(): ReplaceUser | undefined {
    return this.at < this.users.length ? this.users[this.at++] : undefined;
  }

  get waiting(): number {
    return this.users.length - this.at;
  }

  get taken(): number {
    return this.at;
  }

  whenMore(): Promise<void> {
    return Promise.resolve();
  }

  restart(): boolean {
    this.at = 0;
    return true;
  }

  drop(): void {}
}

/** One user's status (presence) as the mirror stores it: property → JSON text; `null`, in a delta, = cleared. */
export interface CheckedStatus {
  readonly id: string;
  readonly props: ReadonlyMap<string, string | null>;
}

/** One entry of the status catalogue: its id as the server spells it, its JSON, and its group (`groupTag`). */
export interface CatalogueEntry {
  readonly statusId: string;
  readonly json: string;
  readonly group: string;
}

/** What the source says of the statuses (presence): all of the subscribed users' (a full replace), or what changed. */
export type StatusesInput = { readonly kind: 'statuses'; readonly replace: boolean; readonly statuses: readonly CheckedStatus[] };

/** What the source says of the status catalogue: all of it (a full replace), or what was added, changed and removed. */
export type CatalogueInput = {
  readonly kind: 'catalogue';
  readonly replace: boolean;
  readonly entries: readonly CatalogueEntry[];
  readonly removed: readonly string[];
};

/**
 * What the source says of the users: all of them (a full replace), or what changed (a delta); or, with presence, of
 * their statuses and of the status catalogue (docs/presence.md).
 */
export type UsersInput =
  | StatusesInput
  | CatalogueInput
  | { readonly kind: 'replace'; readonly users: ReplaceUsers }
  | {
      readonly kind: 'delta';
      /** How many users and removed ids it carries (known without reading them). */
      readonly size: number;
      /**
       * Its users, checked when the writer plans the message rather than on arrival: under load the check then runs
       * while the round trip before it executes (docs/architecture.md, "Why these shapes"). The same users each time.
       */
      read(): DeltaUsers;
    };

/** What a delta says of the users. */
export interface DeltaUsers {
  readonly added: readonly CheckedUser[];
  /** Merged into the user: a property given as null was cleared, one absent is unchanged. */
  readonly changed: readonly CheckedUser[];
  readonly removed: readonly string[];
}

/** Where and when the input arrived. */
export interface UsersArrival {
  /** performance.now() at arrival: the start of icwatch_lag_seconds. */
  readonly receivedAt: number;
  /** The server that sent it (meta icServer). */
  readonly icServer: string;
  /** The source's subscription (meta subscriptionId). */
  readonly subscriptionId?: string;
  /** Why a full replace came (icwatch_full_syncs_total reason); undefined for deltas. */
  readonly syncReason?: string;
}

/** One message's worth of users, as the writer takes it. */
export interface ReceivedUsers extends UsersArrival {
  readonly input: UsersInput;
}

/**
 * The mirror's answer to "which user did the last full replace carry as text of this digest, unchanged since?": the
 * source asks it while reading a full replace, and hands a user it names on as a KnownUserText, unread (a re-sync
 * costs what changed, docs/architecture.md). The writer implements it.
 */
export interface KnownUserTexts {
  idOf(textDigest: number): string | undefined;
  /**
   * How many users it might name: none before the first full replace, whose users the source then reads without
   * digesting each one first to ask (docs/architecture.md, "A re-sync costs what changed").
   */
  readonly size: number;
}

/** How many users (and removed ids) an input carries: the size bound of a coalesced delta chunk. */
export function usersIn(input: UsersInput): number {
  switch (input.kind) {
    case 'replace':
      return input.users.taken + input.users.waiting;
    case 'delta':
      return input.size;
    case 'statuses':
      return input.statuses.length;
    case 'catalogue':
      return 1;
  }
}

/**
 * The mirror's ids, for the source's subscription to their statuses (presence: the list is kept equal to them). The
 * writer implements it; `listener` is told after a commit that added or removed users, or finished a full replace.
 */
export interface MirroredIds {
  ids(): string[];
  onIdsChanged(listener: () => void): void;
}
