/**
 * Snapshots for WebSocket clients: the mirror as of one seq (MirrorReader.snapshot, README "The WebSocket protocol"),
 * listed once and framed once per props filter, and shared between clients while they hold one.
 */
import type { MirrorReader, OnBadEntry, UserProps } from '../mirror/reader.js';
import { frameOf, pickProps, propsKey, type PropsFilter } from './frames.js';

export type { UserProps } from '../mirror/reader.js';

export interface SnapshotOptions {
  /** Users per pipelined round trip, and per snapshot frame. */
  chunkUsers: number;
  /** Stream entries per XRANGE page while replaying. */
  pageEntries: number;
  /** Builds restarted (the stream trimmed past S0 while reading) before giving up. */
  maxAttempts: number;
  /** A full snapshot still held by a client is handed to new clients while it is at most this many entries behind. */
  reuseMaxEntries: number;
  onBadEntry: OnBadEntry;
}

export class Snapshot {
  private readonly list: [string, UserProps][];
  private readonly frames = new Map<string, Buffer[]>();

  constructor(
    readonly epoch: string | null,
    readonly seq: number,
    users: Map<string, UserProps>,
    private readonly chunkUsers: number,
  ) {
    this.list = [...users];
  }

  get userCount(): number {
    return this.list.length;
  }
  get chunkCount(): number {
    return Math.max(1, Math.ceil(this.list.length / this.chunkUsers));
  }

  /** Snapshot frame `i` for a client receiving `props`; framed once per props filter. */
  chunkFrame(i: number, props: PropsFilter): Buffer {
    const key = propsKey(props);
    let frames = this.frames.get(key);
    if (!frames) this.frames.set(key, (frames = []));
    let frame = frames[i];
    if (!frame) {
      const users = this.list.slice(i * this.chunkUsers, (i + 1) * this.chunkUsers).map(([id, p]) => ({ id, ...pickProps(p, props) }));
      frame = frames[i] = frameOf({ type: 'snapshot', seq: this.seq, users, last: i === this.chunkCount - 1 });
    }
    return frame;
  }
}

/** The mirror as of one seq, read consistently; `ids`: only those users. */
export async function buildSnapshot(reader: MirrorReader, ids: ReadonlySet<string> | null, options: SnapshotOptions): Promise<Snapshot> {
  const picture = await reader.snapshot({ ids, ...options });
  return new Snapshot(picture.epoch, picture.seq, picture.users, options.chunkUsers);
}

/**
 * Full snapshots are shared, so the memory they take stays bounded whatever clients do: clients that ask while one
 * is being built share it, and a later client gets the newest one as long as some client still holds it (a weak
 * reference: an idle fan-out keeps none), it belongs to the current epoch, it is at most `reuseMaxEntries` behind,
 * and the stream still holds the entries after it. The client then catches up from its seq, as a resume would.
 * A thundering herd after an epoch change costs one read of the directory, framed once.
 */
export class SharedSnapshots {
  private building: Promise<Snapshot> | null = null;
  private newest: WeakRef<Snapshot> | null = null;
  /** Full snapshots read from Redis so far (each one a read of the whole directory). */
  builds = 0;

  constructor(
    private readonly reader: MirrorReader,
    private readonly options: SnapshotOptions,
  ) {}

  async get(ids: ReadonlySet<string> | null): Promise<Snapshot> {
    if (ids) return buildSnapshot(this.reader, ids, this.options);
    if (this.building) return this.building;
    const held = await this.reusable();
    if (held) return held;
    if (!this.building) {
      this.builds++;
      this.building = buildSnapshot(this.reader, null, this.options)
        .then((snap) => {
          this.newest = new WeakRef(snap);
          return snap;
        })
        .finally(() => {
          this.building = null;
        });
    }
    return this.building;
  }

  private async reusable(): Promise<Snapshot | null> {
    const snap = this.newest?.deref();
    if (!snap) return null;
    const head = await this.reader.head();
    if (head.epoch !== snap.epoch || head.seq < snap.seq || head.seq - snap.seq > this.options.reuseMaxEntries) return null;
    if (head.seq === snap.seq) return snap;
    return (await this.reader.holdsChange(snap.seq + 1)) ? snap : null;
  }
}
