/**
 * The mirror's one door for reading its Redis layout (README, "The Redis mirror (for readers)"): the head, the change
 * stream in pages, the one consistent snapshot, meta, one user, index lookups, the status catalogue, the held
 * removals, the lease holder, the notify wake-ups and the writer's own load. With presence (docs/presence.md) users
 * come with their `status`; without it no status key is read and `op status` entries are left out of every page.
 * The fan-out, the HTTP reads, the status page and the commands read the mirror only through here, so its key names
 * stay in src/mirror/keys.ts. Nothing here writes.
 */
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import { decodeChangeEntry, type ChangeEntry } from './change.js';
import { parseHeldInfo, type HeldInfo } from './held.js';
import { keyNamesToShow, mirrorKeys, type KeyNamesToShow, type MirrorKeys } from './keys.js';
import { availableGroupSet, type StatusGroups } from './presence.js';
import type { StoredProps } from './state.js';
import { catalogueGroups, STATUS, statusRecord, withStatusChange, type StatusRule } from './status-reads.js';

export type RedisClient = Redis | Cluster;

/** presence.enabled and presence.availableGroups, as the readers need them (config.presence fits). */
export interface PresenceReadOptions {
  enabled: boolean;
  availableGroups: readonly string[];
}

export interface MirrorReaderOptions {
  /** Users are read with their status (docs/presence.md); absent or disabled: the users alone, no status entries. */
  presence?: PresenceReadOptions;
}

/** The status catalogue with the head it was read at. */
export interface StatusCatalogue {
  head: MirrorHead;
  /** The entries (`{statusId, messageText, groupTag, …}`), by statusId. */
  statuses: unknown[];
}

/** A user's properties, decoded from its hash (one JSON value per property). */
export type UserProps = Record<string, unknown>;

/** The mirror's position: `epoch` is null until a mirror has initialised this prefix. */
export interface MirrorHead {
  epoch: string | null;
  seq: number;
}

/** The mirror's users as of `seq`. */
export interface MirrorPicture {
  epoch: string | null;
  seq: number;
  users: Map<string, UserProps>;
}

export type OnBadEntry = (err: Error, entryId: string) => void;

/** One XRANGE page of the change stream: the seqs it read (undecodable entries included) and the entries decoded. */
export type StreamPage = { kind: 'empty' } | { kind: 'entries'; firstSeq: number; lastSeq: number; read: number; entries: ChangeEntry[] };

export interface SnapshotReadOptions {
  /** Only these users, and only their changes replayed; null = every user. */
  ids: ReadonlySet<string> | null;
  /** Users per pipelined round trip of HGETALLs. */
  chunkUsers: number;
  /** Stream entries per XRANGE page while replaying. */
  pageEntries: number;
  /** Reads restarted (the mirror restarted, or the stream trimmed past S0, while reading) before giving up. */
  maxAttempts: number;
  onBadEntry: OnBadEntry;
}

export interface CatchUpOptions {
  pageEntries: number;
  onBadEntry: OnBadEntry;
  /** How an entry is applied to the picture's users (the HTTP view copies a user on write). */
  apply: (users: Map<string, UserProps>, entry: ChangeEntry) => void;
}

/** meta's fields as numbers and flags; absent fields are undefined. */
export interface MirrorMeta {
  epoch?: string;
  seq?: number;
  users?: number;
  syncing?: boolean;
  syncedAt?: number;
  lastChangeAt?: number;
  verifiedAt?: number;
}

/** One user read with the head, atomically. `props` is {} when the user's hash is absent; with presence it holds `status`. */
export interface UserRead {
  head: MirrorHead;
  /** The user's id; null when an index names nobody for the value. */
  id: string | null;
  props: UserProps;
}

export interface HeldRemovalsRead {
  /** Ids whose removal the delete guard holds, in Redis's order; [] when none. */
  ids: string[];
  /** About the hold; absent when nothing is held. */
  info?: HeldInfo;
}

export interface LeaderLease {
  holder: string;
  /** What PTTL says: ms left, -1 for a key without expiry. */
  remainingMs: number;
}

/** Everything the mirror holds, as the writer loads it into memory (values as stored, JSON text). */
export interface LoadedMirror {
  meta: Record<string, string>;
  users: Map<string, StoredProps>;
  indexEntries: Map<string, Map<string, string>>;
  /** Ids whose removal the delete guard holds, and the hold's info hash. */
  held: string[];
  heldInfo: Record<string, string>;
  /** With presence: the users' statuses and the catalogue. */
  statuses?: LoadedStatuses;
}

/** The statuses as the writer loads them (presence): each user's status hash, and the catalogue's. */
export interface LoadedStatuses {
  byUser: Map<string, StoredProps>;
  catalogue: Map<string, string>;
}

/** Users read per pipelined round trip while the writer loads the mirror. */
export const LOAD_CHUNK_USERS = 1000;

type RawEntry = [id: string, fields: string[]];

const READ_USER_LUA = readFileSync(new URL('./lua/read-user.lua', import.meta.url), 'utf8');
// The command name on the shared client; several mirrors may share one client, the script is the same.
const READ_USER = 'icwatchMirrorReadUser';
type ReadUserFn = (...args: string[]) => Promise<unknown[]>;

class StaleRead extends Error {}

export function parseHead(values: (string | null | undefined)[]): MirrorHead {
  const [epoch, seq] = values;
  const n = Number(seq ?? 0);
  return { epoch: epoch || null, seq: Number.isSafeInteger(n) && n >= 0 ? n : 0 };
}

function decodeValue(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v; // not JSON: hand it on as the string it is rather than lose the property
  }
}

/** A user hash as stored (one JSON value per property) → its properties. */
export function decodeUserHash(hash: Record<string, string>): UserProps {
  const props: UserProps = {};
  for (const k in hash) props[k] = decodeValue(hash[k]!);
  return props;
}

/** HGETALL as a Lua script returns it ([field, value, …]) → the user's properties. */
function decodeUserFields(fields: string[]): UserProps {
  const props: UserProps = {};
  for (let i = 0; i + 1 < fields.length; i += 2) props[fields[i]!] = decodeValue(fields[i + 1]!);
  return props;
}

/**
 * Applies one change to a users map in place, as a client does (each entry holds absolute values). A status entry
 * is merged into the user's `status` (src/mirror/status-reads.ts); one for a user the map does not hold is ignored.
 */
export function applyChange(users: Map<string, UserProps>, entry: ChangeEntry): void {
  if (entry.op === 'remove') {
    users.delete(entry.id);
    return;
  }
  if (entry.op === 'status') {
    const user = users.get(entry.id);
    if (user) users.set(entry.id, withStatusChange(user, entry.data));
    return;
  }
  let user = users.get(entry.id);
  if (!user) users.set(entry.id, (user = {}));
  for (const [k, v] of Object.entries(entry.data)) {
    if (v === null) delete user[k];
    else user[k] = v;
  }
}

/** The seq of a raw entry (its id is `<seq>-0`). */
const entrySeq = (raw: RawEntry): number => Number(raw[0].split('-')[0]);

/**
 * Decodes raw XRANGE entries into a page; an entry without the documented fields is reported and skipped, and so,
 * without presence, is a status entry (its seq is still read: the page's seqs stay those of the stream).
 */
function pageOf(raw: RawEntry[], onBadEntry: OnBadEntry, statuses: boolean): StreamPage {
  if (!raw.length) return { kind: 'empty' };
  const entries: ChangeEntry[] = [];
  for (const [id, fields] of raw) {
    try {
      const entry = decodeChangeEntry(fields);
      if (statuses || entry.op !== 'status') entries.push(entry);
    } catch (err) {
      onBadEntry(err as Error, id);
    }
  }
  return { kind: 'entries', firstSeq: entrySeq(raw[0]!), lastSeq: entrySeq(raw[raw.length - 1]!), read: raw.length, entries };
}

const ignoreBadEntry: OnBadEntry = () => {};

export class MirrorReader {
  private readonly keys: MirrorKeys;
  /** Key names for messages to operators (README "The Redis mirror"), never to read with. */
  readonly keyNames: KeyNamesToShow;
  /** How `available` is derived; null without presence (no status is read). */
  private readonly statusRule: StatusRule | null;

  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
    options: MirrorReaderOptions = {},
  ) {
    this.keys = mirrorKeys(keyPrefix);
    this.keyNames = keyNamesToShow(keyPrefix);
    const { presence } = options;
    this.statusRule = presence?.enabled ? { available: availableGroupSet(presence.availableGroups) } : null;
    if (typeof (redis as unknown as Record<string, unknown>)[READ_USER] !== 'function') redis.defineCommand(READ_USER, { numberOfKeys: 2, lua: READ_USER_LUA });
  }

  /** The mirror's epoch and seq (one HMGET). */
  async head(): Promise<MirrorHead> {
    return parseHead(await this.redis.hmget(this.keys.meta, 'epoch', 'seq'));
  }

  /** meta, every field. */
  async meta(): Promise<MirrorMeta> {
    const meta = await this.redis.hgetall(this.keys.meta);
    const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
    return {
      epoch: meta.epoch,
      seq: num(meta.seq),
      users: num(meta.users),
      syncing: meta.syncing === undefined ? undefined : meta.syncing === '1',
      syncedAt: num(meta.syncedAt),
      lastChangeAt: num(meta.lastChangeAt),
      verifiedAt: num(meta.verifiedAt),
    };
  }

  /** Up to `count` entries with seq ≥ fromSeq (and ≤ toSeq when given), in order. */
  async changes(fromSeq: number, count: number, options: { toSeq?: number; onBadEntry?: OnBadEntry } = {}): Promise<StreamPage> {
    const to = options.toSeq === undefined ? '+' : `${options.toSeq}-0`;
    const raw = (await this.redis.xrange(this.keys.changes, `${fromSeq}-0`, to, 'COUNT', count)) as RawEntry[];
    return pageOf(raw, options.onBadEntry ?? ignoreBadEntry, this.presence);
  }

  /** The head and the first page of entries after `afterSeq`, in one round trip. */
  async headAndChanges(afterSeq: number, count: number, onBadEntry: OnBadEntry = ignoreBadEntry): Promise<{ head: MirrorHead; page: StreamPage }> {
    const results = await this.redis
      .pipeline()
      .hmget(this.keys.meta, 'epoch', 'seq')
      .xrange(this.keys.changes, `${afterSeq + 1}-0`, '+', 'COUNT', count)
      .exec();
    if (!results) throw new Error('Redis pipeline returned nothing');
    for (const [err] of results) if (err) throw err;
    return { head: parseHead(results[0]![1] as (string | null)[]), page: pageOf(results[1]![1] as RawEntry[], onBadEntry, this.presence) };
  }

  /** Whether the stream still holds the entry of `seq`. */
  async holdsChange(seq: number): Promise<boolean> {
    return (await this.redis.xrange(this.keys.changes, `${seq}-0`, `${seq}-0`)).length > 0;
  }

  /** The newest change entries, newest first; entries that do not decode are skipped. */
  async recentChanges(count: number): Promise<ChangeEntry[]> {
    const raw = (await this.redis.xrevrange(this.keys.changes, '+', '-', 'COUNT', count)) as RawEntry[];
    const page = pageOf(raw, ignoreBadEntry, this.presence);
    return page.kind === 'entries' ? page.entries : [];
  }

  /** Whether users are read with their status (presence.enabled). */
  get presence(): boolean {
    return this.statusRule !== null;
  }

  /**
   * A picture consistent with the seq it names, without any lock on the mirror: read seq S0, the users (pipelined
   * HGETALLs in chunks), seq S1, then replay the entries S0+1..S1 onto what was read. Each entry holds absolute
   * values, so replaying one onto a user read after it is harmless, and the result is exactly the mirror at S1.
   * Redis is never blocked by a large directory, and the writer is not slowed. Restarted (at most
   * `maxAttempts` reads) when the mirror restarted or the stream was trimmed past S0 meanwhile.
   *
   * With presence, each user's status hash is read in the same round trips as its user hash, and the catalogue once,
   * with S0: `available` is derived from them, then replayed like any property (status entries carry it whenever it
   * changed). The one thing this cannot see: a catalogue change and a status change of the same user, both between
   * S0 and that user's read, that leave its availability as it was while mixing them would not.
   */
  async snapshot(options: SnapshotReadOptions): Promise<MirrorPicture> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.snapshotOnce(options);
      } catch (err) {
        if (!(err instanceof StaleRead) || attempt >= options.maxAttempts) throw err;
      }
    }
  }

  private async snapshotOnce(options: SnapshotReadOptions): Promise<MirrorPicture> {
    const { ids } = options;
    const { head: start, idList, groups } = await this.snapshotStart(ids);
    const rule = this.statusRule;
    const users =
      rule && groups
        ? await this.readUsers(idList, options.chunkUsers, decodeUserHash, (user, status) => {
            user[STATUS] = statusRecord(decodeUserHash(status), groups, rule);
          })
        : await this.readUsers(idList, options.chunkUsers, decodeUserHash);
    const end = await this.head();
    if (end.epoch !== start.epoch || end.seq < start.seq) throw new StaleRead('the mirror restarted while reading');
    const picture: MirrorPicture = { epoch: end.epoch, seq: start.seq, users };
    const apply = ids
      ? (map: Map<string, UserProps>, entry: ChangeEntry) => {
          if (ids.has(entry.id)) applyChange(map, entry);
        }
      : applyChange;
    if (!(await this.catchUp(picture, end.seq, { pageEntries: options.pageEntries, onBadEntry: options.onBadEntry, apply })))
      throw new StaleRead(`the stream no longer holds seq ${picture.seq + 1}`);
    return picture;
  }

  /** S0, the ids to read (the asked ones, else every id) and, with presence, the catalogue's groups: one round trip. */
  private async snapshotStart(ids: ReadonlySet<string> | null): Promise<{ head: MirrorHead; idList: string[]; groups: StatusGroups | null }> {
    const pipe = this.redis.pipeline().hmget(this.keys.meta, 'epoch', 'seq');
    if (!ids) pipe.smembers(this.keys.ids);
    if (this.statusRule) pipe.hgetall(this.keys.statuses);
    const replies = (await pipe.exec()) ?? [];
    const values = replies.map(([err, value]) => {
      if (err) throw err;
      return value;
    });
    const head = parseHead(values[0] as (string | null)[]);
    const idList = ids ? [...ids] : (values[1] as string[]);
    const groups = this.statusRule ? catalogueGroups(values[values.length - 1] as Record<string, string>) : null;
    return { head, idList, groups };
  }

  /**
   * Applies the entries picture.seq+1..toSeq to the picture, page by page, moving its seq after each page; false when
   * the stream no longer holds the next one (then the picture is as far as it got, consistent with its seq).
   */
  async catchUp(picture: MirrorPicture, toSeq: number, options: CatchUpOptions): Promise<boolean> {
    while (picture.seq < toSeq) {
      const page = await this.changes(picture.seq + 1, options.pageEntries, { toSeq, onBadEntry: options.onBadEntry });
      if (page.kind === 'empty' || page.firstSeq !== picture.seq + 1) return false;
      for (const entry of page.entries) options.apply(picture.users, entry);
      picture.seq = page.lastSeq;
    }
    return true;
  }

  /** One user by id, with the head, in one atomic read (lua/read-user.lua). */
  async user(id: string): Promise<UserRead> {
    return this.readUser(this.keys.user(id), 'id', id, '');
  }

  /** The user the index of `property` names for `value`, with the head, in one atomic read (lua/read-user.lua). */
  async lookup(property: string, value: string): Promise<UserRead> {
    return this.readUser(this.keys.index(property), 'index', value, this.keys.userKeyPrefix);
  }

  private async readUser(key: string, by: 'id' | 'index', idOrValue: string, userKeyPrefix: string): Promise<UserRead> {
    const script = (this.redis as unknown as Record<string, ReadUserFn>)[READ_USER]!;
    const rule = this.statusRule;
    // Without presence the script is given no status key prefix, and reads no status.
    const reply = await script.call(this.redis, this.keys.meta, key, by, idOrValue, userKeyPrefix, rule ? this.keys.statusKeyPrefix : '', this.keys.statuses);
    const head = parseHead([reply[0] as string | null, reply[1] as string | null]);
    const id = (reply[2] as string | undefined) ?? null;
    const props = decodeUserFields((reply[3] as string[] | undefined) ?? []);
    const status = (reply[4] as string[] | undefined) ?? [];
    if (rule && status.length && Object.keys(props).length)
      props[STATUS] = statusRecord(decodeUserFields(status), catalogueGroups((reply[5] as string[] | undefined) ?? []), rule);
    return { head, id, props };
  }

  /** The status catalogue (`{P}:statuses`) with the head, in one round trip; entries sorted by statusId. */
  async statuses(): Promise<StatusCatalogue> {
    const results = await this.redis.pipeline().hmget(this.keys.meta, 'epoch', 'seq').hgetall(this.keys.statuses).exec();
    if (!results) throw new Error('Redis pipeline returned nothing');
    for (const [err] of results) if (err) throw err;
    const catalogue = results[1]![1] as Record<string, string>;
    const statuses = Object.keys(catalogue)
      .sort()
      .map((statusId) => decodeValue(catalogue[statusId]!));
    return { head: parseHead(results[0]![1] as (string | null)[]), statuses };
  }

  /** How many removals the delete guard holds. */
  async heldCount(): Promise<number> {
    return await this.redis.scard(this.keys.held);
  }

  /** The held ids and, when there are any, what the hold is about. */
  async heldRemovals(): Promise<HeldRemovalsRead> {
    const ids = await this.redis.smembers(this.keys.held);
    if (!ids.length) return { ids };
    return { ids, info: parseHeldInfo(await this.redis.hgetall(this.keys.heldInfo)) };
  }

  /** The operator's pending request about the held removals (field `request`), null when none. */
  async heldRequest(): Promise<string | null> {
    return await this.redis.hget(this.keys.heldInfo, 'request');
  }

  /** Who holds the leader lease (README "High availability"), null when nobody does. */
  async leaderLease(): Promise<LeaderLease | null> {
    const holder = await this.redis.get(this.keys.leader);
    if (!holder) return null;
    return { holder, remainingMs: await this.redis.pttl(this.keys.leader) };
  }

  /**
   * Subscribes `subscriber` (a connection of its own: it can do nothing else while subscribed) to the wake-ups the
   * writer publishes after each applied batch; `onSeq` gets the newest seq (NaN for a message that is not one).
   */
  async followNotify(subscriber: RedisClient, onSeq: (seq: number) => void): Promise<void> {
    const channel = this.keys.notify;
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) onSeq(Number(message));
    });
    await subscriber.subscribe(channel);
  }

  /**
   * Everything the mirror holds, for the writer's memory. meta is read before and after the users: if seq moved
   * meanwhile (another writer), the load is repeated so that users and seq belong together.
   */
  async writerLoad(indexedProperties: readonly string[], presence = false): Promise<LoadedMirror> {
    for (;;) {
      const meta = await this.redis.hgetall(this.keys.meta);
      const ids = await this.redis.smembers(this.keys.ids);
      const users = await this.readUsers(ids, LOAD_CHUNK_USERS, (hash): StoredProps => new Map(Object.entries(hash)));
      const indexEntries = new Map<string, Map<string, string>>();
      for (const prop of indexedProperties) indexEntries.set(prop, new Map(Object.entries(await this.redis.hgetall(this.keys.index(prop)))));
      const held = await this.redis.smembers(this.keys.held);
      const heldInfo = held.length ? await this.redis.hgetall(this.keys.heldInfo) : {};
      const statuses = presence ? await this.writerLoadStatuses(ids) : undefined;
      const after = await this.redis.hget(this.keys.meta, 'seq');
      if ((after ?? undefined) === meta.seq) return { meta, users, indexEntries, held, heldInfo, ...(statuses ? { statuses } : {}) };
    }
  }

  /** The users' status hashes and the status catalogue (presence), as the writer loads them. */
  private async writerLoadStatuses(ids: readonly string[]): Promise<LoadedStatuses> {
    const byUser = new Map<string, StoredProps>();
    for (let i = 0; i < ids.length; i += LOAD_CHUNK_USERS) {
      const chunk = ids.slice(i, i + LOAD_CHUNK_USERS);
      const pipe = this.redis.pipeline();
      for (const id of chunk) pipe.hgetall(this.keys.status(id));
      const replies = (await pipe.exec()) ?? [];
      for (let j = 0; j < chunk.length; j++) {
        const [err, hash] = replies[j] ?? [new Error('no reply')];
        if (err) throw err;
        if (Object.keys(hash as object).length) byUser.set(chunk[j]!, new Map(Object.entries(hash as Record<string, string>)));
      }
    }
    const catalogue = new Map(Object.entries(await this.redis.hgetall(this.keys.statuses)));
    return { byUser, catalogue };
  }

  /**
   * The users of `ids` in pipelined rounds of `chunkUsers` HGETALLs, each hash turned into a value by `decode`. An
   * id whose hash is gone is not a user (the next full replace removes the id). With `withStatus`, each user's
   * status hash is read in the same round trip, and handed to it when the user has one.
   */
  private async readUsers<T>(
    ids: readonly string[],
    chunkUsers: number,
    decode: (hash: Record<string, string>) => T,
    withStatus?: (user: T, status: Record<string, string>) => void,
  ): Promise<Map<string, T>> {
    const users = new Map<string, T>();
    const per = withStatus ? 2 : 1;
    for (let i = 0; i < ids.length; i += chunkUsers) {
      const chunk = ids.slice(i, i + chunkUsers);
      const pipe = this.redis.pipeline();
      for (const id of chunk) {
        pipe.hgetall(this.keys.user(id));
        if (withStatus) pipe.hgetall(this.keys.status(id));
      }
      const replies = (await pipe.exec()) ?? [];
      for (let j = 0; j < chunk.length; j++) {
        const [err, hash] = replies[j * per] ?? [new Error('no reply')];
        if (err) throw err;
        if (!Object.keys(hash as object).length) continue;
        const user = decode(hash as Record<string, string>);
        users.set(chunk[j]!, user);
        if (!withStatus) continue;
        const [statusErr, status] = replies[j * per + 1] ?? [new Error('no reply')];
        if (statusErr) throw statusErr;
        if (Object.keys(status as object).length) withStatus(user, status as Record<string, string>);
      }
    }
    return users;
  }
}
