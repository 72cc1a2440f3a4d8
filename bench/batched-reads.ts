/**
 * How the benches' load clients read: they stand in for consumers on other machines, whose reading would not take
 * this machine's cores, so each reads what its socket received once every READ_EVERY_MS and leaves it in the kernel
 * in between. The reads are spread over the interval (a share of the sockets at each tick), as independent
 * consumers' would be: all at once, they would hold up the client process (and the timing of its other sockets) for
 * a burst every interval.
 */
import net from 'node:net';

export const READ_EVERY_MS = 1000;
/** The sockets are read in this many shares, one share every READ_EVERY_MS / READ_SHARES. */
const READ_SHARES = 20;

/**
 * A socket that, once paused, stops reading from the kernel after at most one more chunk. With Node's default
 * high-water mark (16 KiB) a paused socket goes on reading every write into its stream's buffer, so a "paused"
 * client was in fact read at every write. Given to ws as its `createConnection`; like ws's own, it takes `path` from
 * `socketPath`, since ws's `path` is the URL's.
 */
export const connectReadingLittle = ((options: Record<string, unknown>, onConnect?: () => void) =>
  net.connect(
    { ...options, path: options.socketPath, readableHighWaterMark: 1 } as unknown as net.NetConnectOpts,
    onConnect,
  )) as unknown as typeof net.createConnection;

interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

/** Streams read a share at a time: resumed in a timer, read in the poll phase that follows, paused in its check phase. */
export class BatchedReads<T extends Pausable> {
  private streams: T[] = [];
  private turn = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(isOpen: (stream: T) => boolean) {
    this.timer = setInterval(() => {
      if (this.turn === 0) this.streams = this.streams.filter(isOpen);
      const turn = this.turn;
      const share = this.streams.filter((_, i) => i % READ_SHARES === turn);
      this.turn = (turn + 1) % READ_SHARES;
      for (const s of share) s.resume();
      setImmediate(() => {
        for (const s of share) s.pause();
      });
    }, READ_EVERY_MS / READ_SHARES);
    this.timer.unref();
  }

  add(stream: T): void {
    stream.pause();
    this.streams.push(stream);
  }
}
