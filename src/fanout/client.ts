/**
 * The reference consumer of the fan-out (PRODUCT.md §6): connects, applies the snapshot and the changes to an
 * in-memory map of users, tracks seq and epoch, and after a drop resumes with since/epoch (backoff with jitter).
 * `icwatch tail`, the tests and the chaos suite follow the mirror with it.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { Backoff, type BackoffOptions } from '../util/backoff.js';
import type { ChangeEntry } from '../mirror/change.js';
import { applyChange, type UserProps } from './snapshot.js';

export type ServerFrame =
  | { type: 'hello'; epoch: string | null; seq: number; version: string; worker?: string }
  | { type: 'reset'; reason: 'epoch' | 'trimmed'; epoch: string | null; seq: number }
  | { type: 'snapshot'; seq: number; users: ({ id: string } & UserProps)[]; last: boolean }
  | { type: 'upsert'; seq: number; id: string; data: UserProps }
  | { type: 'remove'; seq: number; id: string }
  | { type: 'pong' }
  | { type: 'error'; error: string };

export interface FanoutClientOptions {
  /** ws://host:port/v1/users */
  url: string;
  token?: string;
  ids?: string[];
  props?: string[];
  /** Resume point to start from (`icwatch tail --since`); epoch may be left out. */
  since?: number;
  epoch?: string;
  /** Reconnect after a drop (default true). */
  reconnect?: boolean;
  backoff?: BackoffOptions;
}

export const CLIENT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 15000, multiplier: 2, jitter: 0.5 };

/** The upgrade was refused (HTTP 400 / 401…): retrying the same request will not help. */
export class RefusedError extends Error {
  constructor(readonly status: number, readonly body: string) {
    super(`the server refused the connection: HTTP ${status} ${body}`);
  }
}

/**
 * Events: `open`, `frame` (raw text, parsed frame), `hello`, `reset`, `synced` (after a snapshot's last chunk or a
 * confirmed resume), `change` (ChangeEntry-like), `gap` (expected seq, got seq), `close` (code, reason),
 * `refused` (RefusedError: the client stops), `error`.
 */
export class FanoutClient extends EventEmitter {
  /** The users as of `seq` (complete once `synced` has fired). */
  users = new Map<string, UserProps>();
  /** The seq the state in `users` stands at; null while it is being replaced by a snapshot. */
  seq: number | null;
  epoch: string | null;
  /** Frames of each type received, for tests and `tail`. */
  readonly counts: Record<string, number> = {};
  connected = false;
  private building: Map<string, UserProps> | null = null;
  /** The epoch of the last hello or reset: the one a snapshot that follows belongs to. */
  private announcedEpoch: string | null = null;
  private ws: WebSocket | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private readonly unfiltered: boolean;

  constructor(private readonly options: FanoutClientOptions) {
    super();
    this.seq = options.since ?? null;
    this.epoch = options.epoch ?? null;
    this.backoff = new Backoff(options.backoff ?? CLIENT_BACKOFF);
    this.unfiltered = !options.ids?.length;
  }

  /** The URL of the next connection: resumes from the state held, if any. */
  connectUrl(): string {
    const u = new URL(this.options.url);
    if (this.seq !== null) u.searchParams.set('since', String(this.seq));
    if (this.seq !== null && this.epoch) u.searchParams.set('epoch', this.epoch);
    if (this.options.ids?.length) u.searchParams.set('ids', this.options.ids.join(','));
    if (this.options.props?.length) u.searchParams.set('props', this.options.props.join(','));
    return u.toString();
  }

  start(): this {
    this.stopped = false;
    this.connect();
    return this;
  }

  /** Drops the current connection (as a network failure would); the client reconnects unless stopped. */
  drop(): void {
    this.ws?.terminate();
  }

  get socket(): WebSocket | null {
    return this.ws;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000);
      setTimeout(() => ws.terminate(), 1000).unref();
    });
  }

  private connect(): void {
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const ws = (this.ws = new WebSocket(this.connectUrl(), { headers, perMessageDeflate: false }));
    ws.on('open', () => {
      this.connected = true;
      this.emit('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d.slice(0, 4096)));
      res.on('end', () => {
        const err = new RefusedError(res.statusCode ?? 0, body);
        const retry = (res.statusCode ?? 0) >= 500;
        if (!retry) this.stopped = true;
        this.emit(retry ? 'error' : 'refused', err);
        ws.terminate();
      });
    });
    ws.on('message', (data: Buffer) => this.onFrame(data.toString('utf8')));
    ws.on('error', (err) => this.emit('error', err));
    ws.on('close', (code, reason) => {
      this.connected = false;
      this.building = null;
      this.emit('close', code, reason.toString());
      if (this.stopped || this.options.reconnect === false) return;
      this.timer = setTimeout(() => this.connect(), this.backoff.next());
    });
  }

  private onFrame(text: string): void {
    let f: ServerFrame;
    try {
      f = JSON.parse(text) as ServerFrame;
    } catch {
      this.emit('error', new Error(`a frame that is not JSON: ${text.slice(0, 100)}`));
      return;
    }
    this.counts[f.type] = (this.counts[f.type] ?? 0) + 1;
    this.emit('frame', text, f);
    switch (f.type) {
      case 'hello':
        this.backoff.reset();
        this.announcedEpoch = f.epoch;
        // Resuming from a seq given without an epoch: adopt the server's (a reset follows if it is not ours).
        if (this.seq !== null && !this.epoch) this.epoch = f.epoch;
        this.emit('hello', f);
        if (this.seq !== null && f.epoch === this.epoch && f.seq === this.seq) this.emit('synced', this.seq);
        break;
      case 'reset':
        this.seq = null;
        this.announcedEpoch = f.epoch;
        this.building = null;
        this.emit('reset', f);
        break;
      case 'snapshot':
        this.building ??= new Map();
        for (const { id, ...props } of f.users) this.building.set(id, props);
        if (f.last) {
          this.users = this.building;
          this.building = null;
          this.seq = f.seq;
          this.epoch = this.announcedEpoch;
          this.emit('synced', f.seq);
        }
        break;
      case 'upsert':
      case 'remove': {
        if (this.seq === null) return;
        if (f.seq <= this.seq) return; // already applied (cannot happen with a correct server)
        if (this.unfiltered && f.seq !== this.seq + 1) this.emit('gap', this.seq + 1, f.seq);
        const entry = (f.type === 'upsert' ? { op: 'upsert', seq: f.seq, id: f.id, data: f.data, at: 0 } : { op: 'remove', seq: f.seq, id: f.id, at: 0 }) as ChangeEntry;
        applyChange(this.users, entry);
        this.seq = f.seq;
        this.emit('change', entry);
        break;
      }
      default:
        break;
    }
  }
}
