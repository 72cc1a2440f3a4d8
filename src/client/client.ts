/**
 * IcwatchClient: follows icwatch's user directory. Starts from a snapshot (the HTTP one, or the WebSocket's), then
 * applies live changes to a local map; after a close it does what the protocol's close table advises
 * (src/protocol/close-codes.ts; README, "Close codes"): resume with since/epoch at once (4008 slow consumer) or after
 * a bounded backoff with jitter (a drop, a shutdown, a code the table does not list), or stop for good (1008, 1009:
 * the client broke the protocol). A resume receives exactly what it missed; when the mirror restarted (a new epoch)
 * or the server no longer holds what it missed, the client is reset and gets a fresh snapshot. Runs in browsers and
 * in Node. Presence (docs/presence.md) rides along: each user's `status`, merged from `status` frames, and the
 * workgroup counts derived from users and statuses.
 */
import { closeCode } from '../protocol/close-codes.js';
import { clientFrameText, parseServerFrame, type ServerFrame, type UserProps, type UserRecord } from '../protocol/frames.js';
import { Backoff } from '../util/backoff.js';
import { UserDirectory, type Change } from './directory.js';
import { Emitter } from './emitter.js';
import type { WorkgroupCounts } from './presence.js';
import {
  CLIENT_BACKOFF,
  CLIENT_HTTP_TIMEOUT_MS,
  CLIENT_KEEPALIVE_MS,
  endpoints,
  type ClientEvents,
  type ClientState,
  type IcwatchClientOptions,
} from './options.js';
import {
  ConnectionEndedError,
  cut,
  defaultWebSocketFactory,
  fetchSnapshot,
  RefusedError,
  type FetchLike,
  type WebSocketFactory,
  type WebSocketLike,
} from './transport.js';

/** The keepalive's ping frame, for platforms that cannot see WebSocket pings. */
const PING = clientFrameText({ type: 'ping' });

export class IcwatchClient extends Emitter<ClientEvents> {
  /** The seq the local map stands at; null before the first snapshot and while a new one is awaited. */
  seq: number | null;
  epoch: string | null;
  state: ClientState = 'idle';
  connected = false;
  /** Frames of each type received (and `http` snapshots), for diagnostics. */
  readonly counts: Record<string, number> = {};
  private readonly directory: UserDirectory;
  private building: Map<string, UserProps> | null = null;
  /** The epoch of the last hello or reset: the one a snapshot that follows belongs to. */
  private announcedEpoch: string | null = null;
  /** The seq of this connection's hello: reaching it means caught up. */
  private helloSeq: number | null = null;
  private ws: WebSocketLike | null = null;
  private stopped = true;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private keepalive: ReturnType<typeof setInterval> | undefined;
  private heardSince = 0;
  private readonly backoff: Backoff;
  private readonly unfiltered: boolean;
  private readonly endpoint: { ws: URL; http: URL };
  private factory: WebSocketFactory | undefined;

  constructor(private readonly options: IcwatchClientOptions) {
    super();
    this.seq = options.since ?? null;
    this.epoch = options.epoch ?? null;
    this.directory = new UserDirectory(options.indexes ?? ['extension']);
    this.backoff = new Backoff(options.backoff ?? CLIENT_BACKOFF);
    this.unfiltered = !options.ids?.length;
    this.endpoint = endpoints(options.url);
    this.factory = options.webSocket;
  }

  /** Every user, by id: the server's state as of `seq` (read it, do not change it). */
  get users(): Map<string, UserProps> {
    return this.directory.users;
  }

  get(id: string): UserProps | undefined {
    return this.directory.get(id);
  }

  /** Users whose `property` has `value` (indexed properties are looked up, others scanned). */
  find(property: string, value: unknown): UserRecord[] {
    return this.directory.find(property, value);
  }

  /**
   * Every workgroup some user lists (their `workgroups` property), sorted by id: how many users list it (`agents`)
   * and how many of those are logged in, available and on the phone, as their statuses say. Kept up to date with
   * every change (no scan), as `GET /v1/workgroups` counts them.
   */
  workgroups(): WorkgroupCounts[] {
    return this.directory.workgroups();
  }

  /** The users of `workgroupId` whose status is available (`status.available`, as the server derives it), sorted by id. */
  available(workgroupId: string): UserRecord[] {
    return this.directory.available(workgroupId);
  }

  /** The underlying socket of the current connection (a `ws` WebSocket in Node). */
  get socket(): WebSocketLike | null {
    return this.ws;
  }

  /** The URL of the next WebSocket connection: resumes from the state held, if any. */
  connectUrl(): string {
    const u = new URL(this.endpoint.ws);
    if (this.seq !== null) u.searchParams.set('since', String(this.seq));
    if (this.seq !== null && this.epoch) u.searchParams.set('epoch', this.epoch);
    this.addFilters(u);
    return u.toString();
  }

  start(): this {
    if (!this.stopped) return this;
    this.stopped = false;
    this.attempt();
    return this;
  }

  /** Drops the current connection as a network failure would; the client resumes unless stopped. */
  drop(): void {
    if (this.ws) cut(this.ws);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.keepalive);
    this.setState('stopped');
    const ws = this.ws;
    if (!ws || ws.readyState === 3) return;
    await new Promise<void>((resolve) => {
      const done = setTimeout(() => {
        cut(ws);
        resolve();
      }, 1000);
      const previous = ws.onclose;
      ws.onclose = (ev) => {
        previous?.(ev);
        clearTimeout(done);
        resolve();
      };
      if (ws.readyState === 0) cut(ws);
      else ws.close(1000);
    });
  }

  // ---- connecting ----

  private attempt(): void {
    if (this.stopped) return;
    this.setState('connecting');
    const viaHttp = this.options.snapshot === 'http' && this.seq === null;
    (viaHttp ? this.loadHttpSnapshot() : Promise.resolve(true)).then((ok) => (ok ? this.open() : undefined)).catch((err: unknown) => this.failed(err as Error));
  }

  private async loadHttpSnapshot(): Promise<boolean> {
    const u = new URL(this.endpoint.http);
    this.addFilters(u);
    const fetchFn: FetchLike = this.options.fetch ?? globalThis.fetch;
    const snap = await fetchSnapshot(fetchFn, u.toString(), this.options.token, this.options.httpTimeoutMs ?? CLIENT_HTTP_TIMEOUT_MS);
    if (this.stopped) return false;
    this.count('http');
    if (this.epoch !== null && snap.epoch !== this.epoch) this.emit('reset', { type: 'reset', reason: 'epoch', epoch: snap.epoch, seq: snap.seq });
    this.directory.replace(snap.users);
    this.seq = snap.seq;
    this.epoch = snap.epoch;
    this.emit('synced', snap.seq);
    return true;
  }

  private async open(): Promise<void> {
    this.factory ??= await defaultWebSocketFactory((err) => this.refused(err));
    if (this.stopped) return;
    const ws = (this.ws = this.factory(this.connectUrl(), this.options.token));
    this.helloSeq = null;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.connected = true;
      this.heardSince = Date.now();
      this.setState('syncing');
      this.emit('open');
      this.watch(ws);
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.heardSince = Date.now();
      this.onFrame(typeof ev.data === 'string' ? ev.data : String(ev.data));
    };
    ws.onerror = () => {}; // the close that follows says what happened
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      const greeted = this.helloSeq !== null;
      this.ws = null;
      this.connected = false;
      this.building = null;
      clearInterval(this.keepalive);
      this.emit('close', ev.code, ev.reason);
      this.afterClose(ev.code, ev.reason, greeted);
    };
  }

  /**
   * What the close table advises (src/protocol/close-codes.ts); a code it does not list is a drop. `greeted`: the
   * connection got its hello. A 'resume' close before that backs off instead, so that a server that closes every
   * connection at once is not hammered.
   */
  private afterClose(code: number, reason: string, greeted: boolean): void {
    if (this.stopped) return;
    const why = `connection closed (${code}${reason ? ` ${reason}` : ''})`;
    switch (closeCode(code).reconnect) {
      case 'never':
        return this.ended(new ConnectionEndedError(code, reason));
      case 'resume':
        return this.retryLater(why, greeted ? 'at-once' : 'after-backoff');
      case 'resume-after-backoff':
        return this.retryLater(why, 'after-backoff');
    }
  }

  /** Keepalive for platforms that cannot see WebSocket pings: a ping frame when quiet, a reconnect when silent. */
  private watch(ws: WebSocketLike): void {
    const every = this.options.keepaliveMs ?? CLIENT_KEEPALIVE_MS;
    clearInterval(this.keepalive);
    this.keepalive = setInterval(() => {
      const quiet = Date.now() - this.heardSince;
      if (quiet >= 2 * every) cut(ws);
      else if (quiet >= every && ws.readyState === 1) ws.send(PING);
    }, every / 2);
    (this.keepalive as { unref?: () => void }).unref?.();
  }

  private failed(err: Error): void {
    if (err instanceof RefusedError) return this.refused(err);
    this.emit('error', err);
    this.retryLater(err.message);
  }

  private refused(err: RefusedError): void {
    if (this.state === 'refused') return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.setState('refused', err.message);
    this.emit('refused', err);
  }

  /** The server closed with a code whose advice is 'never': reconnecting would only be closed again. */
  private ended(err: ConnectionEndedError): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.setState('refused', err.message);
    this.emit('ended', err);
  }

  private retryLater(why: string, when: 'at-once' | 'after-backoff' = 'after-backoff'): void {
    if (this.stopped || this.options.reconnect === false) {
      if (!this.stopped) this.setState('stopped', why);
      return;
    }
    const delay = when === 'at-once' ? 0 : this.backoff.next();
    this.setState('waiting', when === 'at-once' ? `${why}; resuming at once` : `${why}; retrying in ${delay} ms`);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.attempt(), delay);
  }

  private setState(state: ClientState, detail?: string): void {
    if (state === this.state && detail === undefined) return;
    this.state = state;
    this.emit('state', state, detail);
  }

  private addFilters(u: URL): void {
    if (this.options.ids?.length) u.searchParams.set('ids', this.options.ids.join(','));
    if (this.options.props?.length) u.searchParams.set('props', this.options.props.join(','));
  }

  private count(type: string): void {
    this.counts[type] = (this.counts[type] ?? 0) + 1;
  }

  // ---- frames ----

  private onFrame(text: string): void {
    let f: ServerFrame;
    try {
      f = parseServerFrame(text);
    } catch (err) {
      this.emit('error', new Error(`a frame that is not understood: ${(err as Error).message}`));
      return;
    }
    this.count(f.type);
    this.emit('frame', text, f);
    switch (f.type) {
      case 'hello':
        this.backoff.reset();
        this.announcedEpoch = f.epoch;
        this.helloSeq = f.seq;
        // Resuming from a seq given without an epoch: adopt the server's (a reset follows if it is not ours).
        if (this.seq !== null && !this.epoch) this.epoch = f.epoch;
        this.emit('hello', f);
        if (this.seq !== null && f.epoch === this.epoch && (f.seq === this.seq || !this.unfiltered)) this.caughtUp();
        break;
      case 'reset':
        this.seq = null;
        this.announcedEpoch = f.epoch;
        this.building = null;
        this.setState('syncing', `reset: ${f.reason}`);
        this.emit('reset', f);
        break;
      case 'snapshot':
        this.building ??= new Map();
        for (const { id, ...props } of f.users) this.building.set(id, props);
        if (f.last) {
          this.directory.replace(this.building);
          this.building = null;
          this.seq = f.seq;
          this.epoch = this.announcedEpoch;
          this.caughtUp();
        }
        break;
      case 'upsert':
      case 'remove':
      case 'status': {
        if (this.seq === null || f.seq <= this.seq) return; // before a snapshot, or already applied
        if (this.unfiltered && f.seq !== this.seq + 1) this.emit('gap', this.seq + 1, f.seq);
        if (f.type === 'status') {
          const status = this.directory.applyStatus(f.id, f.data);
          this.seq = f.seq;
          this.emit('status', { seq: f.seq, id: f.id, data: f.data, status });
        } else {
          const change: Change = f.type === 'upsert' ? { op: 'upsert', seq: f.seq, id: f.id, data: f.data } : { op: 'remove', seq: f.seq, id: f.id };
          this.directory.apply(change);
          this.seq = f.seq;
          this.emit('change', change);
        }
        if (this.state !== 'live' && this.helloSeq !== null && f.seq >= this.helloSeq) this.caughtUp();
        break;
      }
      case 'error':
        this.emit('error', new Error(`the server says: ${f.error}`));
        break;
      default:
        break;
    }
  }

  private caughtUp(): void {
    this.setState('live');
    this.emit('synced', this.seq!);
  }
}

export { CLIENT_BACKOFF, CLIENT_HTTP_TIMEOUT_MS, CLIENT_KEEPALIVE_MS, type ClientEvents, type ClientState, type IcwatchClientOptions };
