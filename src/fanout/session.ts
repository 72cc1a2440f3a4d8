/**
 * One connected client: its filters, where it stands in the change sequence, and the bytes waiting for its socket.
 * Frames are written straight to the socket (ws does the handshake, pings, close and reading): server frames are
 * never masked, so the fan-out frames each change once and writes the same bytes to every client.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ClientRequest } from './request.js';

export type DisconnectReason = 'client' | 'slow-consumer' | 'keepalive' | 'abuse' | 'shutdown' | 'error';

export class ClientSession {
  /** `syncing`: receiving hello, a snapshot or missed changes from its own reads; `live`: fed by the follower. */
  state: 'syncing' | 'live' | 'closing' = 'syncing';
  /** The last seq this client has been sent (a snapshot's seq counts). */
  sentSeq = 0;
  /** The mirror epoch its state belongs to. */
  epoch: string | null = null;
  /** Bumped whenever the client's sync restarts, so that an older sync task stops at its next step. */
  generation = 0;
  /** Answered the last ping. */
  alive = true;
  badFrames = 0;
  closeReason: DisconnectReason | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingFrames = 0;

  constructor(
    readonly ws: WebSocket,
    readonly socket: Duplex,
    readonly request: ClientRequest,
    private readonly maxBufferedBytes: number,
  ) {}

  get open(): boolean {
    return this.state !== 'closing' && this.socket.writable;
  }

  /** Bytes accepted for this client and not yet handed to the kernel. */
  get unsent(): number {
    return this.socket.writableLength + this.pendingBytes;
  }

  /** Queues bytes for the next flush; false when that would pass the bound (the caller closes the client). */
  enqueue(buffer: Buffer, frames: number): boolean {
    if (this.unsent + buffer.length > this.maxBufferedBytes) return false;
    this.pending.push(buffer);
    this.pendingBytes += buffer.length;
    this.pendingFrames += frames;
    return true;
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** One socket write for everything queued since the last flush; returns the frames written. */
  flush(): number {
    const frames = this.pendingFrames;
    const buffers = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingFrames = 0;
    if (!buffers.length || !this.open) return 0;
    this.socket.write(buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers));
    return frames;
  }

  dropPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingFrames = 0;
  }

  /**
   * Writes `buffer` now if the bound allows it, else once the socket has drained: used while sending a snapshot or
   * missed changes, so that a catching-up client never holds more than the bound plus one page. Resolves false
   * when the client went away meanwhile.
   */
  async writePaced(buffer: Buffer): Promise<boolean> {
    while (this.open && this.unsent > 0 && this.unsent + buffer.length > this.maxBufferedBytes) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      });
    }
    if (!this.open) return false;
    this.socket.write(buffer);
    return true;
  }
}
