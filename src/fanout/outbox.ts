/**
 * The bytes on their way to one client's socket, under websocket.maxBufferedBytes. Frames are written straight to
 * the socket (ws does the handshake, pings, close and reading): server frames are never masked, so the same bytes
 * framed once go to every client. Live changes never queue up round after round in the socket: while the socket
 * has not drained its last write, newer changes wait here and all go out in the next write (docs/fanout.md,
 * "Rounds").
 */
import type { Duplex } from 'node:stream';

/** Counted over all clients, for tests and benchmarks: what the latency bound rests on. */
export interface WriteCounters {
  /** Socket writes of live changes. */
  writes: number;
  /** Live deliveries held back for the client's next write because its socket had not drained yet. */
  heldBack: number;
}

/** The client went away while bytes were waiting to be written to it. */
export class ClientGone extends Error {
  constructor() {
    super('the client went away');
  }
}

export class Outbox {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingFrames = 0;
  private waitingForDrain = false;

  constructor(
    private readonly socket: Duplex,
    private readonly maxBufferedBytes: number,
    private readonly counters: WriteCounters,
    private readonly onFramesWritten: (frames: number) => void,
  ) {}

  /** Bytes accepted for this client and not yet handed to the kernel. */
  get unsent(): number {
    return this.socket.writableLength + this.pendingBytes;
  }

  /**
   * Live changes: written now when the socket has drained, else merged into the write that follows its drain.
   * False when that would pass the bound (the caller closes the client as a slow consumer).
   */
  push(buffer: Buffer, frames: number): boolean {
    if (this.unsent + buffer.length > this.maxBufferedBytes) return false;
    if (!this.socket.writable) return true; // closing: its close handler drops it
    if (this.waitingForDrain || this.socket.writableNeedDrain) {
      this.pending.push(buffer);
      this.pendingBytes += buffer.length;
      this.pendingFrames += frames;
      this.counters.heldBack++;
      if (!this.waitingForDrain) {
        this.waitingForDrain = true;
        this.socket.once('drain', () => this.writeHeldBack());
      }
      return true;
    }
    this.write(buffer, frames);
    return true;
  }

  /** Forgets live changes not written yet (the client closes, or starts over with a snapshot). */
  dropPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingFrames = 0;
  }

  /** A frame outside the change sequence (pong, error); false when the bound does not allow it. */
  writeControl(frame: Buffer): boolean {
    if (this.unsent + frame.length > this.maxBufferedBytes) return false;
    if (this.socket.writable) {
      this.socket.write(frame);
      this.onFramesWritten(1);
    }
    return true;
  }

  /**
   * Writes `buffer` once the bound allows it, waiting for the socket to drain: used while sending a snapshot or
   * missed changes, so that a catching-up client never holds more than the bound plus one page. Rejects with the
   * signal's reason when aborted, and with ClientGone when the socket closed meanwhile.
   */
  async writePaced(buffer: Buffer, frames: number, signal: AbortSignal): Promise<void> {
    while (this.unsent > 0 && this.unsent + buffer.length > this.maxBufferedBytes && this.socket.writableNeedDrain) {
      await this.drainedOrClosed(signal);
    }
    signal.throwIfAborted();
    if (!this.socket.writable) throw new ClientGone();
    this.socket.write(buffer);
    this.onFramesWritten(frames);
  }

  private write(buffer: Buffer, frames: number): void {
    this.socket.write(buffer);
    this.counters.writes++;
    this.onFramesWritten(frames);
  }

  /** Everything held back, as one write: corked, so the socket hands the buffers to one writev without copying. */
  private writeHeldBack(): void {
    this.waitingForDrain = false;
    if (!this.pending.length || !this.socket.writable) return;
    const buffers = this.pending;
    const frames = this.pendingFrames;
    this.dropPending();
    this.socket.cork();
    for (const b of buffers) this.socket.write(b);
    this.socket.uncork();
    this.counters.writes++;
    this.onFramesWritten(frames);
  }

  private drainedOrClosed(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        cleanup();
        resolve();
      };
      const aborted = () => {
        cleanup();
        reject(signal.reason);
      };
      const cleanup = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        signal.removeEventListener('abort', aborted);
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
      signal.addEventListener('abort', aborted, { once: true });
    });
  }
}
