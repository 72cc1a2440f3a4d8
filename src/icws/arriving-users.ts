/**
 * The users of a full replace read from a server-sent event, handed to the mirror while the event is still arriving
 * (ReplaceUsers, src/mirror/input.ts): the reader (message-stream.ts) puts each user as it reads it, the writer takes
 * them as it plans its chunks, and a user taken is let go. So reading, planning and writing overlap, and a user's
 * text lives from its arrival to its chunk instead of until the whole directory has arrived (docs/architecture.md,
 * "Big directories").
 *
 * Bounded: past `readAhead` users read and not taken, the reader is told to wait (`room()`): the stream is paused,
 * and TCP tells the server to wait too.
 */
import type { Logger } from '../log/logger.js';
import type { ReplaceEnd, ReplaceUser, ReplaceUsers } from '../mirror/input.js';
import type { ReadUser } from './read-users.js';

/**
 * Users of a full replace read ahead of the writer at most: two of its chunks (redis.replaceBatchSize, 500 by default;
 * while Redis is busy the writer waits for a chunk's worth, or half of this if less, before it plans one). Few enough
 * that a user's text is let go before the young generation is collected twice, so it is not copied to the old one:
 * with 5,000 the 100k-user directory bench promoted 264 MiB there, with 1,000 155 MiB (`--trace-gc-nvp`, the sum of
 * `promoted`).
 */
export const MAX_USERS_READ_AHEAD = 1000;

export class ArrivingUsers implements ReplaceUsers {
  private queue: (ReadUser | ReplaceUser | undefined)[] = [];
  private head = 0;
  private takenCount = 0;
  ended: ReplaceEnd | undefined;
  private more: (() => void) | undefined;
  private roomMade: (() => void) | undefined;
  private logger: Logger | undefined;
  /** Nobody takes them: what is read from then on is let go at once, and the reader never waits. */
  private dropped = false;

  constructor(readonly readAhead = MAX_USERS_READ_AHEAD) {}

  /** Where refused users are reported as they are taken (a warning naming each; the rest of the replace goes on). */
  reportTo(logger: Logger): this {
    this.logger = logger;
    return this;
  }

  /** The reader's side: the next user read. */
  put(user: ReadUser | ReplaceUser): void {
    if (this.ended || this.dropped) return;
    this.queue.push(user);
    this.wake();
  }

  /** The reader's side: the message ended (complete), or was cut short and why. */
  end(end: ReplaceEnd): void {
    if (this.ended) return;
    this.ended = end;
    this.wake();
    this.roomMade?.();
  }

  /** The reader's side: undefined while there is room; else resolves once the writer took enough. */
  room(): Promise<void> | undefined {
    if (this.waiting < this.readAhead || this.ended || this.dropped) return undefined;
    return new Promise<void>((resolve) => (this.roomMade = resolve));
  }

  get waiting(): number {
    return this.queue.length - this.head;
  }

  get taken(): number {
    return this.takenCount;
  }

  next(): ReplaceUser | undefined {
    while (this.head < this.queue.length) {
      const user = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      this.takenCount++;
      this.compact();
      if (user.kind !== 'rejected') return user;
      this.logger?.warn(`skipped malformed user ${user.id} in full replace: ${user.problem}`, { user: user.id, problem: user.problem });
    }
    return undefined;
  }

  /** Users taken were let go: a replace planned again cannot have them. */
  restart(): boolean {
    return this.takenCount === 0;
  }

  drop(): void {
    this.dropped = true;
    this.queue = [];
    this.head = 0;
    const roomMade = this.roomMade;
    this.roomMade = undefined;
    roomMade?.();
  }

  whenMore(): Promise<void> {
    if (this.waiting || this.ended) return Promise.resolve();
    return new Promise<void>((resolve) => (this.more = resolve));
  }

  private wake(): void {
    const more = this.more;
    this.more = undefined;
    more?.();
  }

  /** Let go of what was taken, now and then; and tell a waiting reader once half the room is free. */
  private compact(): void {
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.roomMade && this.waiting <= this.readAhead / 2) {
      const roomMade = this.roomMade;
      this.roomMade = undefined;
      roomMade();
    }
  }
}
