/**
 * The directory as of one seq, in memory, for the HTTP reads. Caught up lazily, when a request comes: read the
 * mirror's head and apply the stream entries since the view's seq (each entry holds absolute values, so the view
 * is exactly the mirror at the head it read). Only a first read, a new epoch, a trimmed stream or a long absence
 * reads the users themselves: lock-free, the fan-out's snapshot read (MirrorReader.snapshot: read seq S0, the users,
 * seq S1, then replay S0+1..S1), so Redis is never blocked by a large directory and the mirror writer is not slowed.
 * Why a view rather than a Lua read per request: with the directory changing many times a second, a request would
 * otherwise read every user hash for a body that is stale a moment later; the view costs one HMGET and the new
 * entries per request, and one copy of the directory per process (dropped when no reads come for a while).
 */
import type { ChangeEntry } from '../mirror/change.js';
import { applyChange as applyInPlace, type MirrorHead, type MirrorPicture, type MirrorReader, type OnBadEntry, type UserProps } from '../mirror/reader.js';

export interface ViewLimits {
  /** Users per pipelined round trip while loading. */
  loadChunkUsers: number;
  /** Stream entries per XRANGE page while catching up. */
  pageEntries: number;
  /** Further behind than this, the view is loaded afresh rather than caught up. */
  maxCatchUpEntries: number;
  /** Loads restarted (the stream trimmed past S0 while reading) before giving up. */
  maxLoadAttempts: number;
  /** The view is dropped (its memory freed) after this long without a read. */
  idleDropMs: number;
}

export interface ViewState extends MirrorPicture {
  /**
   * Read it, do not change it: it is the view's own map, changed in place by the next catch-up. A user's properties
   * are never changed in place, though (a change replaces the object): what was read of it at one seq stays as it was.
   */
  users: Map<string, UserProps>;
}

/**
 * Applies one change as a client does, but copy-on-write: the changed user becomes a new object, so a body being
 * built in slices from the users as of one seq (src/http/users-json.ts) never sees a later change.
 */
export function applyChange(users: Map<string, UserProps>, entry: ChangeEntry): void {
  // A removal and a status (merged into a new object: withStatusChange) change no user object in place.
  if (entry.op !== 'upsert') return applyInPlace(users, entry);
  const user: UserProps = { ...users.get(entry.id) };
  for (const [k, v] of Object.entries(entry.data)) {
    if (v === null) delete user[k];
    else user[k] = v;
  }
  users.set(entry.id, user);
}

export class UsersView {
  private state: ViewState | null = null;
  private inFlight: Promise<ViewState> | null = null;
  private lastUsed = 0;
  private idleTimer: ReturnType<typeof setInterval> | undefined;
  /** Full loads of the users so far (each one a read of the whole directory). */
  loads = 0;

  constructor(
    private readonly reader: MirrorReader,
    private readonly limits: ViewLimits,
    private readonly onBadEntry: OnBadEntry,
  ) {}

  /** The mirror's head, for a cheap If-None-Match check before anything else. */
  head(): Promise<MirrorHead> {
    return this.reader.head();
  }

  /**
   * The view at the mirror's current head. Requests that come while one catch-up is under way share it (and its
   * seq), so a burst of requests costs one read.
   */
  current(): Promise<ViewState> {
    this.lastUsed = Date.now();
    this.armIdleDrop();
    this.inFlight ??= this.refresh().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  close(): void {
    clearInterval(this.idleTimer);
    this.state = null;
  }

  private armIdleDrop(): void {
    if (this.idleTimer) return;
    this.idleTimer = setInterval(() => {
      if (Date.now() - this.lastUsed < this.limits.idleDropMs || this.inFlight) return;
      this.state = null;
      clearInterval(this.idleTimer);
      this.idleTimer = undefined;
    }, this.limits.idleDropMs);
    this.idleTimer.unref?.();
  }

  private async refresh(): Promise<ViewState> {
    const head = await this.reader.head();
    const s = this.state;
    if (s && s.epoch === head.epoch && head.seq >= s.seq && head.seq - s.seq <= this.limits.maxCatchUpEntries) {
      if (
        head.seq === s.seq ||
        (await this.reader.catchUp(s, head.seq, { pageEntries: this.limits.pageEntries, onBadEntry: this.onBadEntry, apply: applyChange }))
      )
        return s;
    }
    this.loads++;
    this.state = await this.reader.snapshot({
      ids: null,
      chunkUsers: this.limits.loadChunkUsers,
      pageEntries: this.limits.pageEntries,
      maxAttempts: this.limits.maxLoadAttempts,
      onBadEntry: this.onBadEntry,
    });
    return this.state;
  }
}
