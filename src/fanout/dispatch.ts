/**
 * Live changes to live clients, in rounds (docs/fanout.md, "Rounds"). A round takes every page the follower read
 * since the last one began, frames each change once per props filter, and hands each client that has something to
 * receive one buffer. While a round is being written (a large one yields to other work every `sliceClients`
 * clients), newer pages join it for the clients it has not reached yet and become the next round for the others,
 * and a client whose socket has not drained gets them merged into its next write (Outbox): a change waits for at
 * most the rest of one round, and a client is at most one round behind, never a queue of rounds.
 *
 * A round's cost follows the clients that receive something: unfiltered clients are grouped by their props filter
 * (a group none of whose properties changed is skipped whole), and clients with an ids filter are found from the
 * users the round changed.
 */
import { ChangePage, propsKey, type PropsFilter } from './frames.js';
import type { WriteCounters } from './outbox.js';
import type { ClientSession } from './session.js';

export interface DispatchCounters extends WriteCounters {
  rounds: number;
  /** Clients looked at by rounds, summed: what a round costs. */
  clientsVisited: number;
}

export interface DispatcherOptions {
  /** Clients written to in one event-loop turn of a round. */
  sliceClients: number;
  /** Entries waiting for the next round before `offer` asks the follower to wait. */
  maxRoundEntries: number;
  counters: DispatchCounters;
  /** The client's unsent data would pass its bound. */
  onSlowConsumer: (c: ClientSession) => void;
  /** Every change of `page` has been handed to every client receiving it. */
  onHandedOff: (page: ChangePage) => void;
}

/** A live client: it has been sent everything through `skipThrough` (by its sync, then by rounds); rounds skip those entries. */
interface Member {
  readonly session: ClientSession;
  skipThrough: number;
  /** Left (or joined again as another member): rounds under way skip it. */
  gone: boolean;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Dispatcher {
  private readonly members = new Map<ClientSession, Member>();
  /** Clients without an ids filter, by props filter. */
  private readonly everyUser = new Map<string, { props: PropsFilter; members: Set<Member> }>();
  /** Clients with an ids filter, by user id followed. */
  private readonly byUser = new Map<string, Set<Member>>();
  private waiting: ChangePage[] = [];
  private waitingEntries = 0;
  private room: (() => void)[] = [];
  private scheduled = false;
  private writing = false;
  private closed = false;

  constructor(private readonly options: DispatcherOptions) {}

  get liveCount(): number {
    return this.members.size;
  }

  /** A client done syncing through `sentSeq` receives every later change from now on. */
  join(session: ClientSession, sentSeq: number): void {
    this.leave(session);
    const m: Member = { session, skipThrough: sentSeq, gone: false };
    this.members.set(session, m);
    const { ids, props } = session.request;
    if (ids) {
      for (const id of ids) {
        let set = this.byUser.get(id);
        if (!set) this.byUser.set(id, (set = new Set()));
        set.add(m);
      }
      return;
    }
    const key = propsKey(props);
    let group = this.everyUser.get(key);
    if (!group) this.everyUser.set(key, (group = { props, members: new Set() }));
    group.members.add(m);
  }

  leave(session: ClientSession): void {
    const m = this.members.get(session);
    if (!m) return;
    m.gone = true;
    this.members.delete(session);
    const { ids, props } = session.request;
    if (ids) {
      for (const id of ids) {
        const set = this.byUser.get(id);
        set?.delete(m);
        if (set?.size === 0) this.byUser.delete(id);
      }
      return;
    }
    const key = propsKey(props);
    const group = this.everyUser.get(key);
    group?.members.delete(m);
    if (group?.members.size === 0) this.everyUser.delete(key);
  }

  /** A page read from the stream, for the next round; the promise (if any) settles once that round has begun. */
  offer(page: ChangePage): Promise<void> | undefined {
    if (this.closed) return undefined;
    this.waiting.push(page);
    this.waitingEntries += page.entries.length;
    this.schedule();
    if (this.waitingEntries < this.options.maxRoundEntries) return undefined;
    return new Promise<void>((resolve) => this.room.push(resolve));
  }

  /**
   * Forgets the pages not yet sent: the follower reset (a new epoch, whose seqs start over, or a gap), every live
   * client starts over, and no page from before may reach a client that goes live after it.
   */
  discardWaiting(): void {
    this.waiting = [];
    this.waitingEntries = 0;
    this.releaseRoom();
  }

  close(): void {
    this.closed = true;
    this.discardWaiting();
  }

  private schedule(): void {
    if (this.scheduled || this.writing || this.closed) return;
    this.scheduled = true;
    // Pages read in the same event-loop turn go out in one round.
    setImmediate(() => void this.round());
  }

  private releaseRoom(): void {
    const room = this.room;
    this.room = [];
    for (const resolve of room) resolve();
  }

  private async round(): Promise<void> {
    this.scheduled = false;
    if (this.closed || !this.waiting.length) return;
    this.writing = true;
    const pages = this.waiting;
    this.waiting = [];
    this.waitingEntries = 0;
    this.releaseRoom();
    const roundPage = pages.length === 1 ? pages[0]! : new ChangePage(pages.flatMap((p) => p.entries));
    let page = roundPage;
    // Pages read while this round is written: they also wait for the next round, as below.
    const arriving = this.waiting;
    let joined = 0;
    try {
      this.options.counters.rounds++;
      const recipients = this.recipientsOf(page);
      for (let i = 0; i < recipients.length; i++) {
        if (i > 0 && i % this.options.sliceClients === 0) {
          await nextTurn();
          // The clients this round has not reached yet get the pages read meanwhile in the same write: a change
          // waits for the rest of one round, not for it and then the whole next one. The next round skips what a
          // client already has (skipThrough).
          if (arriving === this.waiting && arriving.length > joined) {
            page = new ChangePage([...page.entries, ...arriving.slice(joined).flatMap((p) => p.entries)]);
            joined = arriving.length;
          }
        }
        const m = recipients[i]!;
        // Left (or closing: nothing may follow its close frame), or already sent all of this.
        if (m.gone || m.session.phase.name !== 'live' || page.toSeq <= m.skipThrough) continue;
        this.options.counters.clientsVisited++;
        const { buffer, count } = page.bytesFor(m.session.request.props, m.session.request.ids, m.skipThrough);
        m.skipThrough = page.toSeq;
        if (count && !m.session.outbox.push(buffer, count)) this.options.onSlowConsumer(m.session);
      }
      if (!this.closed) this.options.onHandedOff(roundPage);
    } finally {
      this.writing = false;
      if (this.waiting.length) this.schedule();
    }
  }

  /** The clients that may receive something of `page`, each once. */
  private recipientsOf(page: ChangePage): Member[] {
    const out: Member[] = [];
    for (const group of this.everyUser.values()) {
      if (page.bytesFor(group.props, null, page.fromSeq - 1).count === 0) continue; // none of its properties changed
      for (const m of group.members) out.push(m);
    }
    if (this.byUser.size) {
      const seen = new Set<Member>();
      for (const e of page.entries) {
        const followers = this.byUser.get(e.id);
        if (!followers) continue;
        for (const m of followers) {
          if (seen.has(m)) continue;
          seen.add(m);
          out.push(m);
        }
      }
    }
    return out;
  }
}
