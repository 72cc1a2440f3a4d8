/**
 * What crossing the pipeline's bound costs (redis.maxPendingMessages messages waiting for Redis): the waiting
 * deltas are dropped and a full resync is asked. The deltas that come until that full replace have a gap behind
 * them, so they are dropped too: only the full replace can make the mirror right again. It is counted as a full
 * sync for reason "overflow". A full replace arriving with the bound reached supersedes what waits.
 */
import type { SessionHandle } from '../icws/feed.js';
import type { Logger } from '../log/logger.js';
import type { ReceivedUsers } from '../mirror/input.js';
import type { WriteItem } from '../mirror/write-batch.js';

export class OverflowGuard {
  private awaitingReplace = false;
  private session: SessionHandle | undefined;

  constructor(
    private readonly maxPending: number,
    private readonly log: Logger,
  ) {}

  /** Whether a message goes on to the writer, as what kind of write. */
  admit(m: ReceivedUsers & { session?: SessionHandle }): WriteItem | undefined {
    this.session = m.session ?? this.session;
    // Handed on as it is, its session along (the writer does not read it): no copy per message on the busiest path.
    if (m.input.kind === 'replace') {
      const reason = this.awaitingReplace ? 'overflow' : (m.syncReason ?? 'server');
      this.awaitingReplace = false;
      return { kind: 'replace', received: m, reason };
    }
    return this.awaitingReplace ? undefined : { kind: 'delta', received: m };
  }

  /** coalesceWhileBusy's onFull: what waits once the bound is reached and one more item came. */
  readonly onFull = (waiting: readonly WriteItem[], incoming: WriteItem): WriteItem[] => {
    // A full replace dropped here is never begun: its source stops holding (and reading ahead) its users.
    for (const item of waiting) if (item.kind === 'replace' && item.received.input.kind === 'replace') item.received.input.users.drop();
    if (incoming.kind === 'replace') {
      this.log.warn('a full replace arrived with the queue full; the waiting messages it supersedes were dropped', { dropped: waiting.length });
      return [incoming];
    }
    this.log.warn(`queue overflow: ${this.maxPending} messages waiting (redis.maxPendingMessages); dropped them and asked for a full replace`, {
      dropped: waiting.length,
    });
    this.awaitingReplace = true;
    this.session?.resync('overflow');
    return incoming.kind === 'reload' ? [incoming] : [];
  };
}
