/**
 * Bringing one client up to the live stream (docs/fanout.md, "A client's life"): hello; then either the changes
 * it missed (a resume: same epoch, the stream still holds since+1) or a snapshot consistent with its seq followed
 * by the changes since; then it goes live. Each client reads Redis at its own pace, so a slow one never holds back
 * the others. A run stops at its next step once its signal is aborted (a newer run began, or the client closes).
 */
import type { ResetReason } from '../protocol/frames.js';
import type { MirrorHead, MirrorReader } from '../mirror/reader.js';
import { TurnBudget } from '../util/turn-budget.js';
import type { ChangeFollower } from './follower.js';
import { ChangePage, frameOf } from './frames.js';
import { ClientGone } from './outbox.js';
import type { ClientSession } from './session.js';
import type { SharedSnapshots } from './snapshot.js';

export type { ResetReason };

/** Snapshot chunks are framed and written for at most this long before other work gets the event loop. */
const SNAPSHOT_SLICE_MS = 5;

export interface SyncOptions {
  reader: MirrorReader;
  follower: ChangeFollower;
  snapshots: SharedSnapshots;
  version: string;
  /** The serving worker's id, in the hello (websocket.workers; docs/architecture.md, "Processes"). */
  worker?: string;
  /** Stream entries per read while catching up. */
  pageEntries: number;
  /** The client has been sent everything through `sentSeq`: the dispatcher takes it from here. */
  onLive: (c: ClientSession, sentSeq: number) => void;
  /** The run failed for another reason than the client leaving (Redis failing, most likely). */
  onFailure: (c: ClientSession, err: Error) => void;
}

export class ClientSync {
  constructor(private readonly options: SyncOptions) {}

  /** A new connection: hello, then resume or snapshot. */
  connect(c: ClientSession): void {
    const signal = c.connectSignal;
    this.run(c, signal, this.greet(c, signal));
  }

  /** A client (live or syncing) that can no longer follow with changes: reset, then a fresh snapshot. */
  restart(c: ClientSession, reason: ResetReason, head: MirrorHead): void {
    const signal = c.startSync('snapshot');
    if (signal) this.run(c, signal, this.snapshotThenCatchUp(c, signal, reason, head));
  }

  private run(c: ClientSession, signal: AbortSignal, work: Promise<void>): void {
    work.catch((err: Error) => {
      if (signal.aborted || err instanceof ClientGone) return; // superseded, or the client left
      this.options.onFailure(c, err);
    });
  }

  private async greet(c: ClientSession, signal: AbortSignal): Promise<void> {
    const head = await this.options.reader.head();
    signal.throwIfAborted();
    await c.outbox.writePaced(
      frameOf({
        type: 'hello',
        epoch: head.epoch,
        seq: head.seq,
        version: this.options.version,
        ...(this.options.worker ? { worker: this.options.worker } : {}),
      }),
      1,
      signal,
    );
    const { since, epoch } = c.request;
    if (since === null) return this.snapshotThenCatchUp(c, signal, null, head);
    // A position from another epoch, or beyond this mirror's history, cannot be resumed.
    if ((epoch !== null && epoch !== head.epoch) || since > head.seq) return this.snapshotThenCatchUp(c, signal, 'epoch', head);
    c.continueSync('catch-up', signal);
    return this.catchUp(c, signal, head.epoch, since);
  }

  /** Reset (when a reason is given) then snapshot, then catch up to the live stream. */
  private async snapshotThenCatchUp(c: ClientSession, signal: AbortSignal, reason: ResetReason | null, head: MirrorHead): Promise<void> {
    c.continueSync('snapshot', signal);
    if (reason) await c.outbox.writePaced(frameOf({ type: 'reset', reason, epoch: head.epoch, seq: head.seq }), 1, signal);
    const snap = await this.options.snapshots.get(c.request.ids);
    signal.throwIfAborted();
    // The hello or reset just sent named head's epoch, but the snapshot may belong to another: the mirror restarted
    // meanwhile, or a shared snapshot begun in the previous epoch was still being built. The client labels what
    // follows with the epoch it was last told, and a new epoch's seqs start over at 1: name the snapshot's epoch, or
    // its seqs would pass for the old epoch's.
    if (snap.epoch !== head.epoch) {
      await c.outbox.writePaced(frameOf({ type: 'reset', reason: 'epoch', epoch: snap.epoch, seq: snap.seq }), 1, signal);
    }
    // A socket that takes every write at once never makes writePaced wait: without the budget, framing a whole
    // directory for a new props filter would hold the event loop, and every live client with it.
    const budget = new TurnBudget(SNAPSHOT_SLICE_MS);
    for (let i = 0; i < snap.chunkCount; i++) {
      await budget.pace();
      await c.outbox.writePaced(snap.chunkFrame(i, c.request.props), 1, signal);
    }
    c.continueSync('catch-up', signal);
    return this.catchUp(c, signal, snap.epoch, snap.seq);
  }

  /** The changes after `sentSeq` from Redis, until the follower has nothing newer: then the client goes live. */
  private async catchUp(c: ClientSession, signal: AbortSignal, epoch: string | null, sentSeq: number): Promise<void> {
    const follower = this.options.follower;
    const caughtUp = () => epoch === follower.epoch && sentSeq >= follower.headSeq;
    for (;;) {
      signal.throwIfAborted();
      if (caughtUp()) {
        c.goLive(signal);
        this.options.onLive(c, sentSeq);
        return;
      }
      // Entries that do not decode are skipped silently: the follower logs them.
      const { head, page } = await this.options.reader.headAndChanges(sentSeq, this.options.pageEntries);
      signal.throwIfAborted();
      if (head.epoch !== epoch || head.seq < sentSeq) return this.snapshotThenCatchUp(c, signal, 'epoch', head);
      if (page.kind === 'empty') {
        if (head.seq > sentSeq) return this.snapshotThenCatchUp(c, signal, 'trimmed', head);
        if (caughtUp()) continue;
        // Up to date with Redis, but the follower has not read that far yet (or is on an older epoch).
        const moved = follower.advanced(signal);
        follower.wake();
        await moved;
        continue;
      }
      if (page.firstSeq !== sentSeq + 1) return this.snapshotThenCatchUp(c, signal, 'trimmed', head);
      if (page.entries.length) {
        const { buffer, count } = new ChangePage(page.entries).bytesFor(c.request.props, c.request.ids, sentSeq);
        if (count) await c.outbox.writePaced(buffer, count, signal);
      }
      sentSeq = page.lastSeq;
    }
  }
}
