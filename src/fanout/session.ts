/**
 * One connected client's life, as one state (docs/fanout.md, "A client's life"):
 *
 *   connecting ──▶ syncing (snapshot | catch-up) ──▶ live ──▶ closing
 *                        ▲                            │
 *                        └──────── reset ─────────────┘
 *
 * `connecting` reads the head and sends hello; `syncing` sends a snapshot or the missed changes from the client's
 * own reads of Redis; `live` is fed by the dispatcher; `closing` waits for the socket to go. Each connecting or
 * syncing run owns an AbortController: starting another run, or closing, aborts it, so an outdated run stops at
 * its next step instead of writing to a client that has moved on.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { DisconnectReason, ServerClose } from './close-codes.js';
import { Outbox, type WriteCounters } from './outbox.js';
import type { ClientRequest } from './request.js';

export type SyncVia = 'snapshot' | 'catch-up';

export type ClientPhase =
  | { readonly name: 'connecting'; readonly run: AbortController }
  | { readonly name: 'syncing'; readonly via: SyncVia; readonly run: AbortController }
  | { readonly name: 'live' }
  | { readonly name: 'closing'; readonly reason: DisconnectReason };

const LIVE: ClientPhase = { name: 'live' };

export class ClientSession {
  readonly outbox: Outbox;
  private state: ClientPhase = { name: 'connecting', run: new AbortController() };

  constructor(
    readonly ws: WebSocket,
    readonly socket: Duplex,
    readonly request: ClientRequest,
    maxBufferedBytes: number,
    counters: WriteCounters,
    onFramesWritten: (frames: number) => void,
  ) {
    this.outbox = new Outbox(socket, maxBufferedBytes, counters, onFramesWritten);
  }

  get phase(): ClientPhase {
    return this.state;
  }

  get isClosing(): boolean {
    return this.state.name === 'closing';
  }

  /** The signal of the connecting run (the first one, started with the session). */
  get connectSignal(): AbortSignal {
    if (this.state.name !== 'connecting') throw new Error(`a ${this.state.name} client is not connecting`);
    return this.state.run.signal;
  }

  /** Starts a new sync run, aborting the one under way (or a live client's feed); null when closing. */
  startSync(via: SyncVia): AbortSignal | null {
    if (this.state.name === 'closing') return null;
    this.abortRun();
    this.outbox.dropPending();
    const run = new AbortController();
    this.state = { name: 'syncing', via, run };
    return run.signal;
  }

  /** The run of `signal` goes on another way (a snapshot that is followed by catching up, or a resume). */
  continueSync(via: SyncVia, signal: AbortSignal): void {
    signal.throwIfAborted();
    const run = this.runOf(signal);
    this.state = { name: 'syncing', via, run };
  }

  /** The run of `signal` is done: the dispatcher feeds the client from now on. */
  goLive(signal: AbortSignal): void {
    signal.throwIfAborted();
    this.runOf(signal);
    this.state = LIVE;
  }

  /** Closes with a code of the table; the socket is cut if the close frame cannot go out within `graceMs`. */
  close(close: ServerClose, graceMs: number): void {
    if (!this.enterClosing(close.counted)) return;
    this.ws.close(close.code, close.reason);
    // The close frame waits behind whatever the client has not read: cut the socket if it cannot be flushed.
    const t = setTimeout(() => this.ws.terminate(), graceMs);
    t.unref();
    this.ws.once('close', () => clearTimeout(t));
  }

  /** Cuts the connection without a close frame (the peer no longer answers). */
  terminate(reason: DisconnectReason): void {
    this.enterClosing(reason);
    this.ws.terminate();
  }

  /** The connection is failing on its own (ws closes it): remember why, stop every run. */
  failed(reason: DisconnectReason): void {
    this.enterClosing(reason);
  }

  /** The socket is gone; the reason it is counted under. */
  ended(): DisconnectReason {
    const reason = this.state.name === 'closing' ? this.state.reason : 'client';
    this.enterClosing(reason);
    this.outbox.dropPending();
    return reason;
  }

  private enterClosing(reason: DisconnectReason): boolean {
    if (this.state.name === 'closing') return false;
    this.abortRun();
    this.outbox.dropPending();
    this.state = { name: 'closing', reason };
    return true;
  }

  private abortRun(): void {
    if (this.state.name === 'connecting' || this.state.name === 'syncing') this.state.run.abort();
  }

  private runOf(signal: AbortSignal): AbortController {
    const s = this.state;
    if ((s.name === 'connecting' || s.name === 'syncing') && s.run.signal === signal) return s.run;
    throw new Error(`a sync run that is not the current one tried to move a ${s.name} client`);
  }
}
