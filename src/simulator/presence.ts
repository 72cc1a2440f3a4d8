/**
 * The simulator's user statuses (docs/icws.md "User statuses"): the truth every user-statuses subscription is
 * projected from, one status per user of the directory. Every change goes through `apply`, which stamps
 * `statusChanged` / `onPhoneChanged` when they move and hands the changed properties to the listeners (the
 * sessions), so the control API, the `PUT status/user-statuses/{id}` route and the churn reach clients the same way.
 * A user added to the directory starts logged out; a removed one loses its status (no message says so).
 */
import { USER_STATUS_PROPERTIES, type UserStatus } from '../icws/user-statuses.js';
import type { Directory } from './directory.js';
import { compactIso, Random } from './random.js';
import { STATUS_MESSAGES, type StatusMessage } from './status-messages.js';

/** What a change sets: any status property; null clears an optional one (notes, forwardNumber, until). */
export type StatusChange = { [K in Exclude<keyof UserStatus, 'userId'>]?: UserStatus[K] | null };

/** The changed properties of one user's status, as a delta carries them (`userId` and `statusId` always). */
export type StatusDelta = UserStatus;

export type StatusListener = (deltas: readonly StatusDelta[]) => void;

export const LOGGED_OUT_STATUS = 'Gone Home';
const CLEARABLE = new Set(['notes', 'forwardNumber', 'until']);
const KNOWN = new Set<string>(USER_STATUS_PROPERTIES);

/** Logged-in statuses at start, with their weights (most agents available, some on a break or in follow-up). */
const LOGGED_IN_STATUSES: [string, number][] = [
  ['Available', 0.6],
  ['Available, No ACD', 0.05],
  ['At Lunch', 0.08],
  ['Away from desk', 0.07],
  ['Follow Up', 0.1],
  ['At a Training Session', 0.03],
  ['Do Not Disturb', 0.07],
];

export class Presence {
  private readonly byId = new Map<string, UserStatus>();
  private readonly listeners = new Set<StatusListener>();
  /** The catalogue (GET status/status-messages), changeable through the control API. */
  readonly catalogue = new Map<string, StatusMessage>(STATUS_MESSAGES.map((m) => [m.statusId.toLowerCase(), m]));
  private readonly rng: Random;

  constructor(
    private readonly directory: Directory,
    seed: number,
    private readonly icServer: string,
    nowMs = Date.now(),
  ) {
    this.rng = new Random(seed ^ 0x57a7e5);
    for (const id of directory.ids()) this.byId.set(id, this.initial(id, nowMs));
    directory.onDelta((delta) => {
      const now = Date.now();
      for (const u of delta.added ?? []) this.byId.set(u.configurationId.id, this.loggedOut(u.configurationId.id, now));
      for (const id of delta.removed ?? []) this.byId.delete(id);
    });
  }

  get size(): number {
    return this.byId.size;
  }

  onChange(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  peek(id: string): UserStatus | undefined {
    return this.byId.get(id);
  }

  /** Ids of users whose status matches `test` (for the churn's and the shift change's picks). */
  *ids(test: (s: UserStatus) => boolean = () => true): Iterable<string> {
    for (const [id, s] of this.byId) if (test(s)) yield id;
  }

  /** Every status, deep copies. */
  all(): UserStatus[] {
    return structuredClone([...this.byId.values()]);
  }

  /** The catalogue entry of a status id (case-insensitively), if any. */
  entry(statusId: string): StatusMessage | undefined {
    return this.catalogue.get(statusId.toLowerCase());
  }

  /**
   * Applies changes to several users at once (one message): each user's changed properties reach the listeners,
   * `statusChanged` and `onPhoneChanged` stamped when the status or the phone moved. Unknown users are an error,
   * checked before anything changes.
   */
  apply(changes: readonly { id: string; change: StatusChange }[], nowMs = Date.now()): StatusDelta[] {
    for (const { id, change } of changes) {
      if (!this.byId.has(id)) throw new StatusError(`no user "${id}" in the directory`, 'unknown');
      checkChange(change);
    }
    const stamp = compactIso(nowMs);
    const deltas: StatusDelta[] = [];
    for (const { id, change } of changes) {
      const status = this.byId.get(id)!;
      const delta: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(change)) {
        const before = (status as unknown as Record<string, unknown>)[key];
        if (value === null) {
          if (before === undefined) continue;
          delete (status as unknown as Record<string, unknown>)[key];
        } else {
          if (JSON.stringify(before) === JSON.stringify(value)) continue;
          (status as unknown as Record<string, unknown>)[key] = structuredClone(value);
        }
        delta[key] = value;
      }
      if (!Object.keys(delta).length) continue;
      if ('statusId' in delta && change.statusChanged === undefined) status.statusChanged = delta.statusChanged = stamp;
      if ('onPhone' in delta && change.onPhoneChanged === undefined) status.onPhoneChanged = delta.onPhoneChanged = stamp;
      // A delta carries userId and statusId always; the rest only when it changed (null: cleared).
      deltas.push({ userId: id, ...delta, statusId: status.statusId });
    }
    if (deltas.length) for (const l of this.listeners) l(deltas);
    return deltas;
  }

  private initial(id: string, nowMs: number): UserStatus {
    const rng = this.rng;
    if (!rng.chance(0.6)) return this.loggedOut(id, nowMs - rng.int(1, 600) * 60_000);
    const statusId = weighted(rng, LOGGED_IN_STATUSES);
    const onPhone = statusId.startsWith('Available') && rng.chance(0.3);
    return {
      userId: id,
      statusId,
      statusChanged: compactIso(nowMs - rng.int(1, 240) * 60_000),
      icServers: [this.icServer],
      stations: [`Station${rng.int(100, 999)}`],
      loggedIn: true,
      onPhone,
      onPhoneChanged: compactIso(nowMs - rng.int(1, 60) * 60_000),
    };
  }

  private loggedOut(id: string, nowMs: number): UserStatus {
    return { userId: id, statusId: LOGGED_OUT_STATUS, statusChanged: compactIso(nowMs), icServers: [], stations: [], loggedIn: false, onPhone: false };
  }
}

/** A change the simulator cannot make (the control API answers 404 for an unknown user, 400 for a bad change). */
export class StatusError extends Error {
  constructor(
    message: string,
    readonly kind: 'unknown' | 'invalid',
  ) {
    super(message);
    this.name = 'StatusError';
  }
}

function checkChange(change: StatusChange): void {
  if (change === null || typeof change !== 'object' || Array.isArray(change)) throw new StatusError('a status change is a JSON object', 'invalid');
  for (const [key, value] of Object.entries(change)) {
    if (!KNOWN.has(key)) throw new StatusError(`"${key}" is not a user status property (expected one of ${USER_STATUS_PROPERTIES.join(', ')})`, 'invalid');
    if (value === null) {
      if (!CLEARABLE.has(key)) throw new StatusError(`"${key}" cannot be cleared (only notes, forwardNumber and until can)`, 'invalid');
      continue;
    }
    const ok =
      key === 'loggedIn' || key === 'onPhone'
        ? typeof value === 'boolean'
        : key === 'stations' || key === 'icServers'
          ? Array.isArray(value) && value.every((v) => typeof v === 'string')
          : key === 'until'
            ? typeof value === 'object' && !Array.isArray(value)
            : typeof value === 'string' && (key !== 'statusId' || value !== '');
    if (!ok) throw new StatusError(`"${key}" has the wrong type: ${JSON.stringify(value)?.slice(0, 60)}`, 'invalid');
  }
}

function weighted(rng: Random, table: readonly [string, number][]): string {
  let r = rng.next();
  for (const [value, weight] of table) {
    if (r < weight) return value;
    r -= weight;
  }
  return table[0]![0];
}
