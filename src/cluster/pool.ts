/**
 * The primary's side of the process model (docs/architecture.md, "Processes"): websocket.workers node:cluster
 * workers serve the WebSocket clients and HTTP on the one port, and to the primary's Daemon this pool is the fan-out
 * stage. Each commit is forwarded to every worker as a wake-up; a worker that dies is started again with backoff;
 * the workers' questions (the aggregated /metrics, the primary's state for /readyz) are answered here.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism, getPriority, setPriority } from 'node:os';
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Config } from '../config/defaults.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { aggregateProcessMetrics, type ProcessMetrics } from '../metrics/aggregate.js';
import type { CommittedBatch, FanoutStage } from '../stages/contracts.js';
import { Backoff } from '../util/backoff.js';
import { EXIT, type ErrorWithExitCode, type ExitCode } from '../errors/exit-codes.js';
import { endpointOf, IpcChannel } from './ipc.js';
import { CLUSTER_LIMITS, type ClusterLimits } from './limits.js';
import { isMessage, type AggregatedMetrics, type PrimaryState, type Request, type ToPrimary, type ToWorker, type WorkerMetrics } from './messages.js';
import { workerEntry } from './worker-entry.js';

/** websocket.workers, 0 meaning one per CPU. */
export function workerCount(config: Config): number {
  return config.websocket.workers === 0 ? availableParallelism() : config.websocket.workers;
}

/** A worker's start failed: the primary exits with the worker's code (78 for configuration, 1 otherwise). */
export class WorkerStartError extends Error implements ErrorWithExitCode {
  override name = 'WorkerStartError';
  readonly exitCode: ExitCode;
  constructor(exitCode: number, message: string) {
    super(message);
    this.exitCode = exitCode === EXIT.config ? EXIT.config : EXIT.failure;
  }
}

interface Slot {
  id: string;
  worker?: Worker;
  channel?: IpcChannel;
  listening: boolean;
  clients: number;
  startedAt: number;
  backoff: Backoff;
  restartTimer?: NodeJS.Timeout;
  startOrder?: ToWorker;
}

export interface WorkerPoolOptions {
  logger: Logger;
  metrics: Metrics;
  /** How long close() waits for the workers to close their clients and exit before killing them. */
  closeTimeoutMs: number;
  limits?: Partial<ClusterLimits>;
}

export class WorkerPool implements FanoutStage {
  private readonly slots: Slot[];
  private readonly limits: ClusterLimits;
  private readonly log: Logger;
  private closing = false;
  private stateSource?: () => Promise<PrimaryState>;
  private firstStart?: { resolve: () => void; reject: (err: Error) => void };

  constructor(
    private readonly config: Config,
    private readonly options: WorkerPoolOptions,
  ) {
    this.limits = { ...CLUSTER_LIMITS, ...options.limits };
    this.log = options.logger;
    this.slots = Array.from({ length: workerCount(config) }, (_, i) => ({
      id: String(i + 1),
      listening: false,
      clients: 0,
      startedAt: 0,
      backoff: new Backoff(this.limits.restartBackoff),
    }));
  }

  /** What a worker's /readyz and status page show of the primary (the Daemon's own readiness and status). */
  answerStateWith(source: () => Promise<PrimaryState>): void {
    this.stateSource = source;
  }

  get size(): number {
    return this.slots.length;
  }

  get clientCount(): number {
    return this.slots.reduce((n, s) => n + (s.worker ? s.clients : 0), 0);
  }

  /** The primary serves no sockets: the workers listen on http.port themselves (cluster shares the socket). */
  attach(_server: Server): void {}

  /** Workers follow the mirror from Redis themselves: the writer need not wait for them to listen. */
  readonly followsOnItsOwn = true;

  /** Forks every worker; resolves once all of them listen, rejects when one fails to start. */
  start(): Promise<void> {
    cluster.setupPrimary({ exec: workerEntry.file, execArgv: workerEntry.execArgv(), silent: false });
    const started = new Promise<void>((resolve, reject) => (this.firstStart = { resolve, reject }));
    const timer = setTimeout(
      () => this.firstStart?.reject(new Error(`the workers did not listen within ${this.limits.startTimeoutMs} ms (CLUSTER_LIMITS.startTimeoutMs)`)),
      this.limits.startTimeoutMs,
    );
    for (const slot of this.slots) this.fork(slot);
    return started.finally(() => {
      clearTimeout(timer);
      this.firstStart = undefined;
    });
  }

  notifyCommitted(batch: CommittedBatch): void {
    const message: ToWorker = { t: 'commit', batch: { fromSeq: batch.fromSeq, toSeq: batch.toSeq, receivedAtMs: performance.timeOrigin + batch.receivedAt } };
    for (const s of this.slots) if (s.listening) s.channel?.send(message);
  }

  /** Tells every worker to close its clients (1001) and exit; kills those still there after closeTimeoutMs. */
  async close(): Promise<void> {
    this.closing = true;
    this.firstStart?.reject(new Error('shutting down before the workers listened'));
    const alive = this.slots.filter((s) => {
      clearTimeout(s.restartTimer);
      return s.worker && !s.worker.isDead();
    });
    const exits = alive.map((s) => new Promise<void>((resolve) => s.worker!.once('exit', () => resolve())));
    for (const s of alive) s.channel?.send({ t: 'shutdown', reason: 'the primary is shutting down' } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all(exits).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.options.closeTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      const left = alive.filter((s) => !s.worker!.isDead());
      this.log.warn(`workers ${left.map((s) => s.id).join(', ')} did not exit within ${this.options.closeTimeoutMs} ms; killing them`);
      for (const s of left) s.worker!.process.kill('SIGKILL');
      await Promise.all(exits);
    }
  }

  private fork(slot: Slot): void {
    const worker = cluster.fork();
    this.deprioritise(worker);
    slot.worker = worker;
    slot.listening = false;
    slot.clients = 0;
    slot.startedAt = Date.now();
    const channel = new IpcChannel(
      endpointOf(worker),
      (what) => this.answer(what),
      this.limits.ipcRequestTimeoutMs,
      (m) => this.onMessage(slot, m as ToPrimary),
    );
    slot.channel = channel;
    // The real password stays here: a worker serves clients and never talks to ICWS.
    const config: Config = { ...this.config, icws: { ...this.config.icws, password: '' } };
    slot.startOrder = { t: 'start', worker: slot.id, config };
    worker.once('exit', (code, signal) => this.onExit(slot, worker, code, signal));
  }

  /**
   * On cores shared with the workers, the kernel runs the primary first: the writer's latency must not depend on the
   * fan-out's load (docs/architecture.md, "Processes"). Lowering a child's priority needs no privilege.
   */
  private deprioritise(worker: Worker): void {
    const pid = worker.process.pid;
    if (pid === undefined || this.limits.workerNiceness === 0) return;
    try {
      setPriority(pid, Math.min(getPriority() + this.limits.workerNiceness, 19));
    } catch (err) {
      this.log.warn(`cannot lower the priority of worker pid ${pid}: ${(err as Error).message}`);
    }
  }

  private onMessage(slot: Slot, m: ToPrimary): void {
    if (!isMessage(m)) return;
    switch (m.t) {
      case 'awaiting-start':
        if (slot.startOrder) slot.channel?.send(slot.startOrder);
        return;
      case 'listening':
        slot.listening = true;
        this.log.info(`worker ${slot.id} (pid ${slot.worker?.process.pid}) serves port ${m.port}`, { worker: slot.id });
        if (this.slots.every((s) => s.listening)) this.firstStart?.resolve();
        return;
      case 'clients':
        slot.clients = m.count;
        return;
      case 'failed':
        if (this.firstStart) this.firstStart.reject(new WorkerStartError(m.exitCode, m.message));
        else this.log.error(`worker ${slot.id} could not start: ${m.message}`, { worker: slot.id });
        return;
    }
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    slot.channel?.close(`worker ${slot.id} exited`);
    if (slot.worker === worker) {
      slot.worker = undefined;
      slot.listening = false;
      slot.clients = 0;
    }
    if (this.closing) return;
    if (this.firstStart) {
      this.firstStart.reject(new WorkerStartError(1, `worker ${slot.id} exited during its start (${signal ?? `code ${code}`})`));
      return;
    }
    if (Date.now() - slot.startedAt >= this.limits.stableAfterMs) slot.backoff.reset();
    const delay = slot.backoff.next();
    this.log.warn(`worker ${slot.id} exited (${signal ?? `code ${code}`}); starting it again in ${delay} ms`, { worker: slot.id, exitCode: code, signal });
    slot.restartTimer = setTimeout(() => {
      if (!this.closing) this.fork(slot);
    }, delay);
  }

  private async answer(what: Request['what']): Promise<unknown> {
    if (what === 'state') {
      if (!this.stateSource) throw new Error('the primary is still starting');
      return this.stateSource();
    }
    return this.aggregatedMetrics();
  }

  /** The primary's registry and every live worker's, as one exposition (src/metrics/aggregate.ts). */
  private async aggregatedMetrics(): Promise<AggregatedMetrics> {
    const { registry } = this.options.metrics;
    const parts: ProcessMetrics[] = [{ process: 'primary', metrics: await registry.getMetricsAsJSON() }];
    const answers = await Promise.allSettled(
      this.slots
        .filter((s) => s.listening && s.channel)
        .map(async (s) => ({ process: s.id, metrics: await s.channel!.request<WorkerMetrics>('metrics', `worker ${s.id}`) })),
    );
    for (const a of answers) {
      if (a.status === 'fulfilled') parts.push(a.value);
      else this.log.warn(`/metrics without one worker: ${(a.reason as Error).message}`);
    }
    const aggregated = aggregateProcessMetrics(parts);
    return { contentType: aggregated.contentType, text: await aggregated.metrics() };
  }
}
