/** The Redis writes of one round trip of the mirror, built while MirrorState plans them (src/mirror/state.ts). */
import type { PropertyIndex } from './state.js';

/** An upsert entry being written into a ChunkBuilder. */
export interface OpenUpsert {
  at: number;
  sets: number;
  dels: string[];
  data: string;
  /**
   * Property names that need no JSON escaping and no deletion: the data is exactly the fields set, so the script
   * composes it from them instead of receiving every value twice (half the bytes of a first load, and four
   * arguments per delta instead of 3 + 3·S: Redis clients pay per argument).
   */
  composed: boolean;
}

/** A line the writer logs about the delete guard when the chunk that did it commits. */
export interface HeldNote {
  level: 'error' | 'info';
  message: string;
  fields: Record<string, string | number>;
}

/** Separates the names and values of a packed upsert ('P' and 'U' entries of lua/apply.lua). */
export const FIELD_SEPARATOR = '\u001f';

/**
 * The writes of one Redis round trip, as the apply script's ARGV tail (see lua/apply.lua): change entries in order,
 * then the net index writes.
 */
export class ChunkBuilder {
  readonly entryArgs: string[] = [];
  upserts = 0;
  removes = 0;
  /** Whether the chunk adds or removes users (the mirror's ids change: MirroredIds). */
  idsChanged = false;
  /** Status entries (presence, op status). */
  statuses = 0;
  /** Statuses naming a status id the catalogue does not know (kept, shown by their id; counted at commit). */
  unknownStatusIds = 0;
  /** Statuses of users not in the directory dropped past presence.maxPendingStatuses (counted at commit). */
  droppedStatuses = 0;
  /** The catalogue's writes (presence): statusId → entry JSON to set, or undefined to delete; the last word wins. */
  private readonly catalogue = new Map<string, string | undefined>();
  /** lastModifiedDate (ms since the epoch) of the users whose lastModifiedDate changed (icwatch_source_lag_seconds). */
  readonly modifiedAts: number[] = [];
  private readonly touched = new Map<PropertyIndex, Map<string, string | undefined>>();
  /** The delete guard's writes (src/mirror/held.ts): id → held (true) or let go (false), the last word winning. */
  private readonly heldIds = new Map<string, boolean>();
  /** Fields of {P}:held:info this chunk sets. */
  private readonly heldInfo = new Map<string, string>();
  /** What the writer logs once the chunk is committed: holds (errors, with their counts) and confirmations. */
  readonly heldNotes: HeldNote[] = [];

  get entries(): number {
    return this.upserts + this.removes + this.statuses;
  }

  /** Start an upsert entry: its field/value pairs are pushed straight after, the counts patched by endUpsert. */
  beginUpsert(id: string, created: boolean): OpenUpsert {
    const at = this.entryArgs.length;
    // 'n': a user new to the mirror (the script adds it to the ids set); 'u': a user it holds.
    this.entryArgs.push(created ? 'n' : 'u', id, '', '');
    return { at, sets: 0, dels: [], data: '{', composed: true };
  }

  /** Appends one field to the data Node builds (an upsert no longer composed by the script). */
  appendData(e: OpenUpsert, key: string, json: string): void {
    e.data += (e.data.length > 1 ? ',' : '') + key + ':' + json;
  }

  /** The upsert's data built in Node after all, from the pairs pushed so far (a name that needs escaping, a deletion). */
  decompose(e: OpenUpsert): void {
    if (!e.composed) return;
    e.composed = false;
    for (let i = e.at + 4; i < this.entryArgs.length; i += 2) this.appendData(e, keyJson(this.entryArgs[i]!), this.entryArgs[i + 1]!);
  }

  endUpsert(e: OpenUpsert): void {
    if (this.entryArgs[e.at] === 'n') this.idsChanged = true;
    if (e.composed) {
      // One argument instead of 2·S. JSON never holds a raw U+001F, and the names on this path need no escaping, so
      // the separator cannot collide.
      const packed = this.entryArgs.splice(e.at + 4).join(FIELD_SEPARATOR);
      this.entryArgs[e.at] = this.entryArgs[e.at] === 'n' ? 'P' : 'U';
      this.entryArgs[e.at + 2] = String(e.sets);
      this.entryArgs[e.at + 3] = packed;
      this.upserts++;
      return;
    }
    this.entryArgs[e.at + 2] = String(e.sets);
    this.entryArgs[e.at + 3] = String(e.dels.length);
    for (const prop of e.dels) this.entryArgs.push(prop);
    this.entryArgs.push(e.data + '}');
    this.upserts++;
  }

  /** Drop an upsert that turned out to change nothing. */
  abandon(e: OpenUpsert): false {
    this.entryArgs.length = e.at;
    return false;
  }

  remove(id: string): void {
    this.idsChanged = true;
    this.entryArgs.push('r', id);
    this.removes++;
  }

  /**
   * A status entry (presence): `sets` field/value pairs for the status hash, `dels` fields to delete, and `data`, the
   * JSON of what changed (the apply script's 's' entry).
   */
  status(id: string, sets: readonly string[], dels: readonly string[], data: string): void {
    this.entryArgs.push('s', id, String(sets.length / 2), String(dels.length), ...sets, ...dels, data);
    this.statuses++;
  }

  /** Set (`json`) or delete (undefined) one catalogue entry. */
  setCatalogue(statusId: string, json: string | undefined): void {
    this.catalogue.set(statusId, json);
  }

  /** The catalogue segment of the apply script: CS, CD, CS statusId/JSON pairs, CD statusIds. */
  catalogueArgs(): { args: readonly string[]; writes: number } {
    if (!this.catalogue.size) return { args: EMPTY_CATALOGUE, writes: 0 };
    const sets: string[] = [];
    const dels: string[] = [];
    for (const [statusId, json] of this.catalogue) {
      if (json === undefined) dels.push(statusId);
      else sets.push(statusId, json);
    }
    return { args: [String(sets.length / 2), String(dels.length), ...sets, ...dels], writes: this.catalogue.size };
  }

  /** The delete guard holds this user's removal (`true`) or lets go of it (`false`). */
  markHeld(id: string, held: boolean): void {
    this.heldIds.set(id, held);
  }

  setHeldInfo(fields: Record<string, string | number>): void {
    for (const [k, v] of Object.entries(fields)) this.heldInfo.set(k, String(v));
  }

  /** The held segment of the apply script: ids to hold, ids to let go, info pairs, each list after its count. */
  heldArgs(): { args: readonly string[]; writes: number } {
    if (!this.heldIds.size && !this.heldInfo.size) return { args: EMPTY_HELD, writes: 0 };
    const adds: string[] = [];
    const releases: string[] = [];
    for (const [id, held] of this.heldIds) (held ? adds : releases).push(id);
    const info = [...this.heldInfo].flat();
    return {
      args: [String(adds.length), ...adds, String(releases.length), ...releases, String(info.length / 2), ...info],
      writes: this.heldIds.size + this.heldInfo.size,
    };
  }

  touchIndex(index: PropertyIndex, value: string, before: string | undefined): void {
    let values = this.touched.get(index);
    if (!values) this.touched.set(index, (values = new Map<string, string | undefined>()));
    if (!values.has(value)) values.set(value, before);
  }

  /**
   * Net index writes of the chunk, grouped by property (the apply script's index segment): the number of groups,
   * then per group: property, S, D, S value/user-id pairs to set, D values to delete. `writes` counts them.
   */
  indexArgs(): { args: string[]; writes: number } {
    const args = [''];
    let groups = 0;
    let writes = 0;
    for (const [index, values] of this.touched) {
      const sets: string[] = [];
      const dels: string[] = [];
      for (const [value, before] of values) {
        const now = index.entries.get(value);
        if (now === before) continue;
        if (now === undefined) dels.push(value);
        else sets.push(value, now);
      }
      if (!sets.length && !dels.length) continue;
      args.push(index.property, String(sets.length / 2), String(dels.length), ...sets, ...dels);
      groups++;
      writes += sets.length / 2 + dels.length;
    }
    args[0] = String(groups);
    return { args, writes };
  }
}

/** The catalogue segment of a chunk that writes none of it. */
export const EMPTY_CATALOGUE: readonly string[] = Object.freeze(['0', '0']);

/** The held segment of a chunk that holds and lets go of nothing. */
export const EMPTY_HELD: readonly string[] = Object.freeze(['0', '0', '0']);

const keyJsonCache = new Map<string, string>();
/** JSON of a property name (a handful of distinct names: cached). */
export function keyJson(prop: string): string {
  let json = keyJsonCache.get(prop);
  if (json === undefined) {
    json = JSON.stringify(prop);
    if (keyJsonCache.size < 1000) keyJsonCache.set(prop, json);
  }
  return json;
}
