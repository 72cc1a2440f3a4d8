/**
 * The mirror's statuses held in memory (presence, docs/presence.md), and the planning of their writes: as
 * MirrorState does for users, each operation updates memory at once and appends to a ChunkBuilder exactly the
 * Redis writes and `status` change entries it takes. Memory keeps a digest per status property, plus the three facts
 * the available rule reads (src/mirror/presence.ts), so that each entry can say when `available` changed.
 *
 * Statuses of users the mirror does not hold wait (at most maxPending, oldest dropped first) and are written in the
 * chunk that adds the user: a status never stands in Redis without its user.
 */
import { keyJson, type ChunkBuilder } from './chunk-builder.js';
import { digestOf } from '../util/digest.js';
import type { CatalogueInput, CheckedStatus } from './input.js';
import { AVAILABLE, isAvailable, statusKey } from './presence.js';
import type { StoredProps } from './state.js';

/** What memory keeps of one user's status. */
interface HeldStatus {
  digests: Map<string, number>;
  statusId?: string;
  loggedIn?: boolean;
  onPhone?: boolean;
  available: boolean;
}

export interface StatusBookOptions {
  /** presence.availableGroups, as compared (availableGroupSet). */
  availableGroups: ReadonlySet<string>;
  /** presence.maxPendingStatuses. */
  maxPending: number;
}

type StatusProps = ReadonlyMap<string, string | null>;

export class StatusBook {
  readonly statuses = new Map<string, HeldStatus>();
  /** statusKey → group (`groupTag`), from the catalogue. */
  private readonly groups = new Map<string, string>();
  /** statusKey → the catalogue entry as written: its field name in `{P}:statuses` and the digest of its JSON. */
  private readonly catalogue = new Map<string, { statusId: string; digest: number }>();
  /** Statuses of users not (yet) in the mirror, oldest first: what the next status of each would merge into. */
  private readonly pending = new Map<string, Map<string, string | null>>();
  /** Told whenever a user's availability changes (icwatch_available_agents). */
  availabilityListener: ((id: string, available: boolean) => void) | undefined;

  constructor(private readonly options: StatusBookOptions) {}

  /** Memory as loaded from Redis: each user's status hash, and the catalogue hash. */
  static loaded(options: StatusBookOptions, statuses: ReadonlyMap<string, StoredProps>, catalogue: ReadonlyMap<string, string>): StatusBook {
    const book = new StatusBook(options);
    for (const [statusId, json] of catalogue) book.rememberEntry(statusId, json);
    for (const [id, props] of statuses) {
      const held: HeldStatus = { digests: new Map(), available: false };
      for (const [prop, json] of props) book.note(held, prop, json);
      held.available = book.availableOf(held);
      book.statuses.set(id, held);
    }
    return book;
  }

  get size(): number {
    return this.statuses.size;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Whether the user's status counts as available now. */
  available(id: string): boolean {
    return this.statuses.get(id)?.available ?? false;
  }

  /**
   * A user's status: merged into what the mirror holds (a delta), or set exactly (a full replace). A user the mirror
   * does not hold has it wait for the user.
   */
  apply(b: ChunkBuilder, status: CheckedStatus, exact: boolean, userHeld: boolean): void {
    if (!userHeld) return this.wait(b, status, exact);
    this.write(b, status.id, status.props, exact);
  }

  /** The user left the status list of a full replace: its status goes (an entry with each property it had cleared). */
  clear(b: ChunkBuilder, id: string): void {
    if (this.statuses.has(id)) this.write(b, id, new Map(), true);
  }

  /** The ids holding a status now (a full replace of statuses clears those it does not list). */
  ids(): string[] {
    return [...this.statuses.keys()];
  }

  /** The user is new to the mirror: a status that waited for it is written now, after the user's entry. */
  userCreated(b: ChunkBuilder, id: string): void {
    const waiting = this.pending.get(id);
    if (!waiting) return;
    this.pending.delete(id);
    this.write(b, id, waiting, true);
  }

  /** The user left the mirror: the apply script deletes its status hash with the user's; memory forgets it. */
  userRemoved(id: string): void {
    if (this.statuses.get(id)?.available) this.availabilityListener?.(id, false);
    this.statuses.delete(id);
    this.pending.delete(id);
  }

  /**
   * The catalogue (all of it, or what changed): written to `{P}:statuses` as it differs, and a status entry
   * `{available}` for each user whose availability the change of groups changes.
   */
  catalogueChanged(b: ChunkBuilder, input: CatalogueInput): void {
    const listed = new Set<string>();
    for (const entry of input.entries) {
      const key = statusKey(entry.statusId);
      listed.add(key);
      const digest = digestOf(entry.json);
      const known = this.catalogue.get(key);
      if (known?.digest === digest && known.statusId === entry.statusId) continue;
      // Another spelling of a known id replaces it: one entry per id, compared without regard to case.
      if (known && known.statusId !== entry.statusId) b.setCatalogue(known.statusId, undefined);
      b.setCatalogue(entry.statusId, entry.json);
      this.catalogue.set(key, { statusId: entry.statusId, digest });
      this.groups.set(key, entry.group);
    }
    const removed = input.replace ? [...this.catalogue.keys()].filter((key) => !listed.has(key)) : input.removed.map(statusKey);
    for (const key of removed) {
      const known = this.catalogue.get(key);
      if (!known) continue;
      b.setCatalogue(known.statusId, undefined);
      this.catalogue.delete(key);
      this.groups.delete(key);
    }
    for (const [id, held] of this.statuses) {
      const now = this.availableOf(held);
      if (now === held.available) continue;
      held.available = now;
      this.availabilityListener?.(id, now);
      b.status(id, [], [], `{"${AVAILABLE}":${now}}`);
    }
  }

  private wait(b: ChunkBuilder, status: CheckedStatus, exact: boolean): void {
    const before = this.pending.get(status.id);
    const merged = exact || !before ? new Map<string, string | null>() : before;
    for (const [prop, json] of status.props) merged.set(prop, json);
    // Re-inserted: the most recent status of a user is the last to be dropped.
    this.pending.delete(status.id);
    this.pending.set(status.id, merged);
    while (this.pending.size > this.options.maxPending) {
      this.pending.delete(this.pending.keys().next().value!);
      b.droppedStatuses++;
    }
  }

  /** Writes the difference between what the mirror holds of `id`'s status and `props` (exact: props is all of it). */
  private write(b: ChunkBuilder, id: string, props: StatusProps, exact: boolean): void {
    let held = this.statuses.get(id);
    const created = !held;
    held ??= { digests: new Map(), available: false };
    const sets: string[] = [];
    const dels: string[] = [];
    let data = '';
    const add = (prop: string, json: string) => (data += (data ? ',' : '') + keyJson(prop) + ':' + json);
    for (const [prop, json] of props) {
      if (json === null) {
        if (held.digests.has(prop)) {
          dels.push(prop);
          add(prop, 'null');
          this.note(held, prop, null);
        }
        continue;
      }
      const digest = digestOf(json);
      if (held.digests.get(prop) === digest) continue;
      sets.push(prop, json);
      add(prop, json);
      this.note(held, prop, json, digest);
    }
    if (exact) {
      for (const prop of [...held.digests.keys()]) {
        if (props.get(prop) != null) continue;
        dels.push(prop);
        add(prop, 'null');
        this.note(held, prop, null);
      }
    }
    const available = this.availableOf(held);
    if (available !== held.available || (created && sets.length)) add(AVAILABLE, String(available));
    if (available !== held.available) this.availabilityListener?.(id, available);
    held.available = available;
    if (held.digests.size) this.statuses.set(id, held);
    else this.statuses.delete(id);
    if (!sets.length && !dels.length && !data) return;
    if (held.statusId !== undefined && sets.includes('statusId') && this.catalogue.size && !this.groups.has(statusKey(held.statusId))) b.unknownStatusIds++;
    b.status(id, sets, dels, `{${data}}`);
  }

  /** Memory's note of one property (its digest, and the facts the available rule reads). */
  private note(held: HeldStatus, prop: string, json: string | null, digest = json === null ? 0 : digestOf(json)): void {
    if (json === null) held.digests.delete(prop);
    else held.digests.set(prop, digest);
    if (prop !== 'statusId' && prop !== 'loggedIn' && prop !== 'onPhone') return;
    const value = json === null ? undefined : parseFact(json);
    if (prop === 'statusId') held.statusId = typeof value === 'string' ? value : undefined;
    else if (prop === 'loggedIn') held.loggedIn = value === true;
    else held.onPhone = value === true;
  }

  private availableOf(held: HeldStatus): boolean {
    return isAvailable(held, this.groups, this.options.availableGroups);
  }

  private rememberEntry(statusId: string, json: string): void {
    const key = statusKey(statusId);
    this.catalogue.set(key, { statusId, digest: digestOf(json) });
    const group = groupOf(json);
    if (group !== undefined) this.groups.set(key, group);
  }
}

function parseFact(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

function groupOf(json: string): string | undefined {
  const entry = parseFact(json) as { groupTag?: unknown } | undefined;
  return typeof entry?.groupTag === 'string' ? entry.groupTag : undefined;
}
