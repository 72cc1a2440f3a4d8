/**
 * The WebSocket fan-out (PRODUCT.md §6): hello, then a snapshot consistent with its seq or the missed changes of a
 * resume, then live changes; filters; token auth; keepalive; a bound on every client's unsent data.
 * Fed from Redis only (ChangeFollower), so that any number of processes can serve clients of one mirror.
 */
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Cluster, Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';
import { componentLogger, type Logger } from '../log/logger.js';
import { registerSecret } from '../log/redact.js';
import type { Metrics } from '../metrics/metrics.js';
import { mirrorKeys, type MirrorKeys } from '../mirror/keys.js';
import { ChangeFollower } from './follower.js';
import { ChangePage, frameOf } from './frames.js';
import { isRefusal, parseClientRequest, refuseUpgrade, TokenCheck, type ClientRequest, type RequestLimits } from './request.js';
import { ClientSession, type DisconnectReason } from './session.js';
import { SharedSnapshots } from './snapshot.js';
import { decodeEntries, entrySeq, readHead, readHeadAndChanges, type MirrorHead } from './stream.js';

export interface FanoutOptions {
  redis: Redis | Cluster;
  createSubscriber: () => Redis | Cluster;
  keyPrefix: string;
  path: string;
  tokens: string[];
  maxBufferedBytes: number;
  snapshotChunkUsers: number;
  pingIntervalMs: number;
  maxClients: number;
  maxClientFrameBytes: number;
  maxClientErrors: number;
  version: string;
  metrics: Metrics;
  logger: Logger;
  /** Internal bounds with sensible defaults (FANOUT_LIMITS); tests shorten them. */
  limits?: Partial<FanoutLimits>;
}

export interface FanoutLimits extends RequestLimits {
  /** Stream entries per XRANGE page (live following and catching up). */
  streamPageEntries: number;
  /** Fallback poll of the mirror's head when no notification arrives. */
  pollIntervalMs: number;
  /** A slow consumer whose close frame has not gone out after this long is cut off. */
  slowConsumerGraceMs: number;
  /** On shutdown, clients that have not finished the close handshake after this long are cut off. */
  shutdownGraceMs: number;
  /** Frames larger than this (a multiple of maxClientFrameBytes: those in between get an error frame) close the connection with 1009. */
  hardFrameLimitFactor: number;
  /** Committed batches remembered for the websocket lag metric (role all). */
  maxTrackedBatches: number;
  /** Snapshot builds restarted when the stream is trimmed under them. */
  snapshotAttempts: number;
  /** A full snapshot still held by a client is reused for new clients while at most this many entries behind. */
  snapshotReuseMaxEntries: number;
}

export const FANOUT_LIMITS: FanoutLimits = {
  maxFilterIds: 1000,
  maxIdLength: 256,
  streamPageEntries: 1000,
  pollIntervalMs: 1000,
  slowConsumerGraceMs: 5000,
  shutdownGraceMs: 2000,
  hardFrameLimitFactor: 16,
  maxTrackedBatches: 1024,
  snapshotAttempts: 5,
  snapshotReuseMaxEntries: 10000,
};

type CommittedBatch = { fromSeq: number; toSeq: number; receivedAt: number };

export class FanoutServer {
  private readonly o: FanoutOptions;
  private readonly limits: FanoutLimits;
  private readonly keys: MirrorKeys;
  private readonly log: Logger;
  private readonly tokens: TokenCheck;
  private readonly wss: WebSocketServer;
  private readonly follower: ChangeFollower;
  private readonly snapshots: SharedSnapshots;
  private readonly clients = new Set<ClientSession>();
  private readonly live = new Set<ClientSession>();
  private upgrading = 0;
  private closed = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private flushPages: ChangePage[] = [];
  private committed: CommittedBatch[] = [];

  constructor(options: FanoutOptions) {
    this.o = options;
    this.limits = { ...FANOUT_LIMITS, ...options.limits };
    this.keys = mirrorKeys(options.keyPrefix);
    this.log = componentLogger(options.logger, 'fanout');
    for (const t of options.tokens) registerSecret(t);
    this.tokens = new TokenCheck(options.tokens);
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.maxClientFrameBytes * this.limits.hardFrameLimitFactor,
    });
    const onBadEntry = (err: Error, id: string) => this.log.error('skipping a change entry that cannot be decoded', { entry: id, error: err.message });
    this.snapshots = new SharedSnapshots(options.redis, this.keys, {
      chunkUsers: options.snapshotChunkUsers,
      pageEntries: this.limits.streamPageEntries,
      maxAttempts: this.limits.snapshotAttempts,
      reuseMaxEntries: this.limits.snapshotReuseMaxEntries,
      onBadEntry,
    });
    this.follower = new ChangeFollower({
      redis: options.redis,
      createSubscriber: options.createSubscriber,
      keys: this.keys,
      pageEntries: this.limits.streamPageEntries,
      pollIntervalMs: this.limits.pollIntervalMs,
      logger: this.log,
      onPage: (page) => this.dispatch(page),
      onReset: (reason, head) => this.resetAll(reason, head),
    });
  }

  get clientCount(): number {
    return this.clients.size;
  }

  attach(server: http.Server): void {
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  async start(): Promise<void> {
    await this.follower.start();
    this.pingTimer = setInterval(() => this.keepalive(), this.o.pingIntervalMs);
    this.pingTimer.unref();
  }

  notifyCommitted(batch: CommittedBatch): void {
    this.committed.push({ fromSeq: batch.fromSeq, toSeq: batch.toSeq, receivedAt: batch.receivedAt });
    if (this.committed.length > this.limits.maxTrackedBatches) this.committed.shift();
    this.follower.wake();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    await this.follower.close();
    const gone = [...this.clients].map((c) => new Promise<void>((resolve) => {
      c.ws.once('close', () => resolve());
      this.closeClient(c, 'shutdown', 1001, 'going away', this.limits.shutdownGraceMs);
    }));
    await Promise.all(gone);
    this.wss.close();
  }

  // ---- connections ----

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {}); // a reset during the handshake is the client's business
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== this.o.path) return refuseUpgrade(socket, { status: 404, error: `no WebSocket endpoint at ${path.slice(0, 100)}`, expected: this.o.path });
    if (this.closed) return refuseUpgrade(socket, { status: 503, error: 'shutting down' });
    if (this.clients.size + this.upgrading >= this.o.maxClients) return refuseUpgrade(socket, { status: 503, error: 'too many clients', expected: `at most ${this.o.maxClients}` });
    const parsed = parseClientRequest(req, this.tokens, this.limits);
    if (isRefusal(parsed)) {
      this.log.info('refused a WebSocket client', { status: parsed.status, error: parsed.error, remote: req.socket.remoteAddress });
      return refuseUpgrade(socket, parsed);
    }
    this.upgrading++;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.upgrading--;
      this.onConnection(ws, socket, parsed);
    });
  }

  private onConnection(ws: WebSocket, socket: Duplex, request: ClientRequest): void {
    if (this.closed) return void ws.close(1001, 'going away');
    const c = new ClientSession(ws, socket, request, this.o.maxBufferedBytes);
    this.clients.add(c);
    this.o.metrics.wsClients.set(this.clients.size);
    ws.on('pong', () => (c.alive = true));
    ws.on('message', (data, isBinary) => this.onClientFrame(c, data as Buffer, isBinary));
    ws.on('error', (err: Error & { code?: string }) => {
      c.closeReason ??= err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'abuse' : 'error';
    });
    ws.on('close', () => {
      c.state = 'closing';
      c.dropPending();
      this.clients.delete(c);
      this.live.delete(c);
      this.o.metrics.wsClients.set(this.clients.size);
      this.o.metrics.wsDisconnects.inc({ reason: c.closeReason ?? 'client' });
    });
    void this.greet(c).catch((err) => this.failClient(c, err));
  }

  private async greet(c: ClientSession): Promise<void> {
    const head = await readHead(this.o.redis, this.keys);
    if (!c.open) return;
    c.socket.write(frameOf({ type: 'hello', epoch: head.epoch, seq: head.seq, version: this.o.version }));
    this.o.metrics.wsFramesSent.inc();
    const { since, epoch } = c.request;
    if (since === null) return this.sync(c, null, head);
    // A position from another epoch, or beyond this mirror's history, cannot be resumed.
    if ((epoch !== null && epoch !== head.epoch) || since > head.seq) return this.sync(c, 'epoch', head);
    c.epoch = head.epoch;
    c.sentSeq = since;
    return this.catchUp(c, ++c.generation);
  }

  private failClient(c: ClientSession, err: unknown): void {
    this.log.warn('a WebSocket client could not be served', { error: (err as Error).message });
    this.closeClient(c, 'error', 1011, 'server error');
  }

  private closeClient(c: ClientSession, reason: DisconnectReason, code: number, text: string, graceMs = this.limits.slowConsumerGraceMs): void {
    c.closeReason ??= reason;
    c.state = 'closing';
    c.dropPending();
    this.live.delete(c);
    c.ws.close(code, text);
    // The close frame waits behind whatever the client has not read: cut the socket if it cannot be flushed.
    const t = setTimeout(() => c.ws.terminate(), graceMs);
    t.unref();
    c.ws.once('close', () => clearTimeout(t));
  }

  // ---- snapshot and catching up (each client reads at its own pace) ----

  /** Reset (when a reason is given) then snapshot, then catch up to the live stream. */
  private async sync(c: ClientSession, reason: 'epoch' | 'trimmed' | null, head: MirrorHead): Promise<void> {
    const generation = ++c.generation;
    this.live.delete(c);
    c.state = 'syncing';
    c.dropPending();
    if (reason) {
      if (!(await c.writePaced(frameOf({ type: 'reset', reason, epoch: head.epoch, seq: head.seq })))) return;
      this.o.metrics.wsFramesSent.inc();
    }
    const snap = await this.snapshots.get(c.request.ids);
    if (generation !== c.generation) return;
    for (let i = 0; i < snap.chunkCount; i++) {
      if (!(await c.writePaced(snap.chunkFrame(i, c.request.props))) || generation !== c.generation) return;
      this.o.metrics.wsFramesSent.inc();
    }
    c.epoch = snap.epoch;
    c.sentSeq = snap.seq;
    return this.catchUp(c, generation);
  }

  private async catchUp(c: ClientSession, generation: number): Promise<void> {
    for (;;) {
      if (generation !== c.generation || !c.open) return;
      if (c.epoch === this.follower.epoch && c.sentSeq >= this.follower.headSeq) {
        c.state = 'live';
        this.live.add(c);
        return;
      }
      const { head, raw } = await readHeadAndChanges(this.o.redis, this.keys, c.sentSeq, this.limits.streamPageEntries);
      if (generation !== c.generation || !c.open) return;
      if (head.epoch !== c.epoch || head.seq < c.sentSeq) return this.sync(c, 'epoch', head);
      if (!raw.length) {
        if (head.seq > c.sentSeq) return this.sync(c, 'trimmed', head);
        // Up to date with Redis but the follower has not read that far yet (or is on an older epoch): wait a little.
        this.follower.wake();
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      if (entrySeq(raw[0]!) !== c.sentSeq + 1) return this.sync(c, 'trimmed', head);
      const entries = decodeEntries(raw, () => {});
      const toSeq = entrySeq(raw[raw.length - 1]!);
      if (entries.length) {
        const { buffer, count } = new ChangePage(entries).bytesFor(c.request.props, c.request.ids, c.sentSeq);
        if (count && !(await c.writePaced(buffer))) return;
        this.o.metrics.wsFramesSent.inc(count);
      }
      if (generation !== c.generation) return;
      c.sentSeq = toSeq;
    }
  }

  private resetAll(reason: 'epoch' | 'trimmed', head: MirrorHead): void {
    for (const c of this.clients) {
      if (c.state === 'closing') continue;
      // A syncing client reads on its own and finds out itself; one already on the new epoch needs nothing.
      if (c.state === 'syncing' && (reason === 'trimmed' || c.epoch === head.epoch)) continue;
      void this.sync(c, reason, head).catch((err) => this.failClient(c, err));
    }
  }

  // ---- live changes ----

  private dispatch(page: ChangePage): void {
    for (const c of this.live) {
      if (page.toSeq <= c.sentSeq) continue;
      const { buffer, count } = page.bytesFor(c.request.props, c.request.ids, c.sentSeq);
      c.sentSeq = page.toSeq;
      if (!count) continue;
      if (!c.enqueue(buffer, count)) this.slowConsumer(c);
    }
    this.flushPages.push(page);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** One socket write per client per event-loop turn, whatever number of pages arrived meanwhile. */
  private flush(): void {
    this.flushScheduled = false;
    let frames = 0;
    for (const c of this.live) if (c.hasPending) frames += c.flush();
    if (frames) this.o.metrics.wsFramesSent.inc(frames);
    const pages = this.flushPages;
    this.flushPages = [];
    for (const page of pages) this.observeLag(page);
  }

  private observeLag(page: ChangePage): void {
    const lag = this.o.metrics.lag.labels({ stage: 'websocket' });
    let covered = page.fromSeq - 1;
    while (this.committed.length && this.committed[0]!.fromSeq <= page.toSeq) {
      const b = this.committed[0]!;
      if (b.toSeq > page.toSeq) break;
      this.committed.shift();
      // A batch that ended before this page was never handed on here (a reset skipped it): no hand-off to time.
      if (b.toSeq >= page.fromSeq) lag.observe((performance.now() - b.receivedAt) / 1000);
      covered = Math.max(covered, b.toSeq);
    }
    const now = Date.now();
    for (const e of page.entries) if (e.seq > covered && Number.isFinite(e.at)) lag.observe(Math.max(0, now - e.at) / 1000);
  }

  private slowConsumer(c: ClientSession): void {
    this.log.info('closing a slow consumer', { unsentBytes: c.unsent, sentSeq: c.sentSeq });
    this.closeClient(c, 'slow-consumer', 4008, 'slow consumer');
  }

  // ---- keepalive and client frames ----

  private keepalive(): void {
    for (const c of this.clients) {
      if (c.state === 'closing') continue;
      if (!c.alive) {
        c.closeReason ??= 'keepalive';
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  private onClientFrame(c: ClientSession, data: Buffer, isBinary: boolean): void {
    if (c.state === 'closing') return;
    let error: string | null = null;
    if (isBinary) error = 'binary frames are not understood';
    else if (data.length > this.o.maxClientFrameBytes) error = `frame of ${data.length} bytes is larger than ${this.o.maxClientFrameBytes}`;
    else {
      let msg: { type?: unknown } | null = null;
      try {
        msg = JSON.parse(data.toString('utf8'));
      } catch {
        error = 'not JSON';
      }
      if (msg && typeof msg === 'object' && msg.type === 'ping') {
        this.sendControl(c, { type: 'pong' });
        return;
      }
      error ??= 'unknown frame: the only client frame is {"type":"ping"}';
    }
    c.badFrames++;
    if (c.badFrames > this.o.maxClientErrors) {
      this.closeClient(c, 'abuse', 1008, 'too many bad frames');
      return;
    }
    this.sendControl(c, { type: 'error', error });
  }

  private sendControl(c: ClientSession, message: object): void {
    if (!c.open) return;
    const frame = frameOf(message);
    // A client that sends without reading must not grow our buffers either.
    if (c.unsent + frame.length > this.o.maxBufferedBytes) return this.slowConsumer(c);
    c.socket.write(frame);
    this.o.metrics.wsFramesSent.inc();
  }
}
