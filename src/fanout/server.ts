/**
 * The WebSocket fan-out (README, "The WebSocket protocol"; docs/fanout.md): hello, then a snapshot consistent with
 * its seq or the missed changes of a resume, then live changes; filters; token auth; keepalive; a bound on every
 * client's unsent data. Fed from Redis only (ChangeFollower), so that any number of processes can serve clients of
 * one mirror. This file wires the parts together, each in its own module:
 * - upgrade.ts: admission (path, auth, query, maxClients) before a WebSocket exists;
 * - session.ts: one client's life as one state, connecting → syncing → live → closing;
 * - sync.ts: hello, snapshot or resume, catching up, at the client's own pace;
 * - dispatch.ts: live changes in rounds; outbox.ts: the bytes on their way to one socket;
 * - lag.ts, keepalive.ts, client-frames.ts: the websocket lag metric, pings, what clients may send;
 * - close-codes.ts: every way a connection ends and what it means for reconnecting.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { componentLogger, type Logger } from '../log/logger.js';
import { registerSecret } from '../log/redact.js';
import { MirrorReader, type MirrorHead } from '../mirror/reader.js';
import { answerClientFrames } from './client-frames.js';
import { CLOSE } from './close-codes.js';
import { Dispatcher, type DispatchCounters } from './dispatch.js';
import { ChangeFollower } from './follower.js';
import { Keepalive } from './keepalive.js';
import { MirroredProps } from './mirrored-props.js';
import { WebsocketLag, type CommittedBatch } from './lag.js';
import { FANOUT_LIMITS, type FanoutLimits, type FanoutOptions } from './options.js';
import type { ClientRequest } from './request.js';
import { ClientSession } from './session.js';
import { SharedSnapshots } from './snapshot.js';
import { ClientSync, type ResetReason } from './sync.js';
import { UpgradeGate } from './upgrade.js';

export { FANOUT_LIMITS, type FanoutLimits, type FanoutOptions } from './options.js';
export type { CommittedBatch } from './lag.js';
export type { DispatchCounters } from './dispatch.js';

export class FanoutServer {
  /** Rounds, clients visited, socket writes and merged deliveries since start (tests and benchmarks read them). */
  readonly counters: DispatchCounters = { rounds: 0, clientsVisited: 0, writes: 0, heldBack: 0 };
  private readonly options: FanoutOptions;
  private readonly limits: FanoutLimits;
  private readonly log: Logger;
  private readonly clients = new Set<ClientSession>();
  private readonly gate: UpgradeGate;
  private readonly follower: ChangeFollower;
  private readonly sync: ClientSync;
  private readonly dispatcher: Dispatcher;
  private readonly lag: WebsocketLag;
  private readonly keepalive: Keepalive;
  private closed = false;
  private readonly countFrames: (frames: number) => void;

  constructor(options: FanoutOptions) {
    this.countFrames = (frames) => options.metrics.wsFramesSent.inc(frames);
    this.options = options;
    const limits = (this.limits = { ...FANOUT_LIMITS, ...options.limits });
    const reader = new MirrorReader(options.redis, options.keyPrefix, { presence: options.presence });
    const log = (this.log = componentLogger(options.logger, 'fanout'));
    for (const t of options.tokens) registerSecret(typeof t === 'string' ? t : t.token);
    this.gate = new UpgradeGate({
      path: options.path,
      tokens: options.tokens,
      site: options.site,
      maxClients: options.maxClients,
      maxPayloadBytes: options.maxClientFrameBytes * limits.hardFrameLimitFactor,
      limits,
      mirrored: new MirroredProps(options.properties, { status: reader.presence }),
      logger: log,
      clientCount: () => this.clients.size,
      onClient: (ws, socket, request) => this.onClient(ws, socket, request),
    });
    const onBadEntry = (err: Error, id: string) => log.error('skipping a change entry that cannot be decoded', { entry: id, error: err.message });
    const snapshots = new SharedSnapshots(reader, {
      chunkUsers: options.snapshotChunkUsers,
      pageEntries: limits.streamPageEntries,
      maxAttempts: limits.snapshotAttempts,
      reuseMaxEntries: limits.snapshotReuseMaxEntries,
      onBadEntry,
    });
    this.lag = new WebsocketLag(options.metrics, limits.maxTrackedBatches);
    this.dispatcher = new Dispatcher({
      sliceClients: limits.roundSliceClients,
      maxRoundEntries: limits.maxRoundEntries,
      counters: this.counters,
      onSlowConsumer: (c) => this.slowConsumer(c),
      onHandedOff: (page) => this.lag.handedOff(page),
    });
    this.follower = new ChangeFollower({
      reader,
      createSubscriber: options.createSubscriber,
      pageEntries: limits.streamPageEntries,
      pollIntervalMs: limits.pollIntervalMs,
      logger: log,
      onPage: (page) => this.dispatcher.offer(page),
      onReset: (reason, head) => this.resetAll(reason, head),
      hasReceivers: () => this.dispatcher.liveCount > 0,
      onSkipped: (from, to) => this.lag.skipped(from, to),
    });
    this.sync = new ClientSync({
      reader,
      follower: this.follower,
      snapshots,
      version: options.version,
      worker: options.worker,
      pageEntries: limits.streamPageEntries,
      onLive: (c, sentSeq) => this.dispatcher.join(c, sentSeq),
      onFailure: (c, err) => this.failClient(c, err),
    });
    this.keepalive = new Keepalive(options.pingIntervalMs, () => this.clients);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Clients done syncing, fed by the rounds. */
  get liveClientCount(): number {
    return this.dispatcher.liveCount;
  }

  attach(server: http.Server): void {
    this.gate.attach(server);
  }

  async start(): Promise<void> {
    await this.follower.start();
    this.keepalive.start();
  }

  /** A batch this process committed: times its hand-off exactly, and reads it without waiting for the notification. */
  notifyCommitted(batch: CommittedBatch): void {
    this.lag.committedLocally(batch);
    this.follower.wake();
  }

  /** Refuses new clients, closes every client with CLOSE.goingAway and waits for them to go. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.keepalive.stop();
    this.gate.close();
    await this.follower.close();
    this.dispatcher.close();
    const gone = [...this.clients].map(
      (c) =>
        new Promise<void>((resolve) => {
          c.ws.once('close', () => resolve());
          c.close(CLOSE.goingAway, this.limits.shutdownGraceMs);
        }),
    );
    await Promise.all(gone);
  }

  private onClient(ws: WebSocket, socket: Duplex, request: ClientRequest): void {
    if (this.closed) return void ws.close(CLOSE.goingAway.code, CLOSE.goingAway.reason);
    const { metrics } = this.options;
    const c = new ClientSession(ws, socket, request, this.options.maxBufferedBytes, this.counters, this.countFrames);
    this.clients.add(c);
    metrics.wsClients.set(this.clients.size);
    this.keepalive.watch(c);
    answerClientFrames(
      c,
      { maxClientFrameBytes: this.options.maxClientFrameBytes, maxClientErrors: this.options.maxClientErrors, closeGraceMs: this.limits.slowConsumerGraceMs },
      (s) => this.slowConsumer(s),
    );
    ws.on('error', (err: Error & { code?: string }) => c.failed(err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? CLOSE.messageTooBig.counted : 'error'));
    ws.on('close', () => {
      const reason = c.ended();
      this.dispatcher.leave(c);
      this.clients.delete(c);
      metrics.wsClients.set(this.clients.size);
      metrics.wsDisconnects.inc({ reason });
    });
    this.sync.connect(c);
  }

  /**
   * The follower cannot hand on changes from where live clients stand (a new epoch, or entries trimmed before it
   * read them): each gets reset and a fresh snapshot. A client still syncing reads Redis on its own and finds out
   * by itself at its next read.
   */
  private resetAll(reason: ResetReason, head: MirrorHead): void {
    this.dispatcher.discardWaiting();
    for (const c of this.clients) {
      if (c.phase.name !== 'live') continue;
      this.dispatcher.leave(c);
      this.sync.restart(c, reason, head);
    }
  }

  private slowConsumer(c: ClientSession): void {
    this.log.info('closing a slow consumer', { unsentBytes: c.outbox.unsent, phase: c.phase.name });
    this.dispatcher.leave(c);
    c.close(CLOSE.slowConsumer, this.limits.slowConsumerGraceMs);
  }

  private failClient(c: ClientSession, err: Error): void {
    this.log.warn('a WebSocket client could not be served', { error: err.message });
    this.dispatcher.leave(c);
    c.close(CLOSE.serverError, this.limits.slowConsumerGraceMs);
  }
}
