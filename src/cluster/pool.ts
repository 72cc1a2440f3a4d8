/**
 * The primary's side of the process model (docs/architecture.md, "Processes"): websocket.workers node:cluster
 * workers serve the WebSocket clients and HTTP on the one port, and to the primary's Daemon this pool is the fan-out
 * stage. Each commit is forwarded to every worker as a wake-up; a worker that dies is started again with backoff;
 * the workers' questions (the aggregated /metrics, the primary's state for /readyz) are answered here.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
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
import { lowerPriority } from './worker-priority.js';

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

/** One worker's place in the pool, with what each of its states has. */
type SlotState =
  /** Not running: before the first start, once the pool closes, after a failed first start. */
  | { type: 'down' }
  /** Forked, not listening yet: it asks for `startOrder`, then starts its Daemon. */
  | { type: 'starting'; worker: Worker; channel: IpcChannel; startedAt: number; startOrder: ToWorker }
  /** Its HTTP server listens on the shared port; `clients` as it last reported them. */
  | { type: 'serving'; worker: Worker; channel: IpcChannel; startedAt: number; clients: number }
  /** Exited; forked again when `timer` fires (restart backoff). */
  | { type: 'restarting'; timer: NodeJS.Timeout };

type Running = Extract<SlotState, { worker: Worker }>;

interface Slot {
  readonly id: string;
  readonly backoff: Backoff;
  state: SlotState;
}

/** The pool's own progress: its first start (resolved once every worker listens), then serving, then closing. */
type PoolPhase = { type: 'idle' } | { type: 'starting'; resolve: () => void; reject: (err: Error) => void } | { type: 'started' } | { type: 'closing' };

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
  private phase: PoolPhase = { type: 'idle' };
  private stateSource?: () => Promise<PrimaryState>;
  /** A worker's priority could not be lowered: said once, not at every restart. */
  private priorityWarned = false;

  constructor(
    private readonly config: Config,
    private readonly options: WorkerPoolOptions,
  ) {
    this.limits = { ...CLUSTER_LIMITS, ...options.limits };
    this.log = options.logger;
    this.slots = Array.from({ length: workerCount(config) }, (_, i) => ({
      id: String(i + 1),
      backoff: new Backoff(this.limits.restartBackoff),
      state: { type: 'down' },
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
    return this.slots.reduce((n, s) => n + (s.state.type === 'serving' ? s.state.clients : 0), 0);
  }

  private get closing(): boolean {
    return this.phase.type === 'closing';
  }

  /** The primary serves no sockets: the workers listen on http.port themselves (cluster shares the socket). */
  attach(_server: Server): void {}

  /** Workers follow the mirror from Redis themselves: the writer need not wait for them to listen. */
  readonly followsOnItsOwn = true;

  /** Forks every worker; resolves once all of them listen, rejects when one fails to start. */
  start(): Promise<void> {
    cluster.setupPrimary({ exec: workerEntry.file, execArgv: workerEntry.execArgv(), silent: false });
    const started = new Promise<void>((resolve, reject) => (this.phase = { type: 'starting', resolve, reject }));
    const timer = setTimeout(
      () => this.failStart(new Error(`the workers did not listen within ${this.limits.startTimeoutMs} ms (CLUSTER_LIMITS.startTimeoutMs)`)),
      this.limits.startTimeoutMs,
    );
    for (const slot of this.slots) this.fork(slot);
    return started.finally(() => {
      clearTimeout(timer);
      if (this.phase.type === 'starting') this.phase = { type: 'started' };
    });
  }

  /** Ends the first start with `err` (a worker failed, or the time ran out); true if the start was under way. */
  private failStart(err: Error): boolean {
    if (this.phase.type !== 'starting') return false;
    const { reject } = this.phase;
    this.phase = { type: 'started' };
    reject(err);
    return true;
  }

  notifyCommitted(batch: CommittedBatch): void {
    const message: ToWorker = { t: 'commit', batch: { fromSeq: batch.fromSeq, toSeq: batch.toSeq, receivedAtMs: performance.timeOrigin + batch.receivedAt } };
    for (const s of this.slots) if (s.state.type === 'serving') s.state.channel.send(message);
  }

  /** Tells every worker to close its clients (1001) and exit; kills those still there after closeTimeoutMs. */
  async close(): Promise<void> {
    this.failStart(new Error('shutting down before the workers listened'));
    this.phase = { type: 'closing' };
    const alive: Array<Running & { id: string }> = [];
    for (const s of this.slots) {
      if (s.state.type === 'restarting') {
        clearTimeout(s.state.timer);
        s.state = { type: 'down' };
      } else if (s.state.type !== 'down' && !s.state.worker.isDead()) alive.push({ ...s.state, id: s.id });
    }
    const exits = alive.map((s) => new Promise<void>((resolve) => s.worker.once('exit', () => resolve())));
    for (const s of alive) s.channel.send({ t: 'shutdown', reason: 'the primary is shutting down' } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all(exits).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.options.closeTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      const left = alive.filter((s) => !s.worker.isDead());
      this.log.warn(`workers ${left.map((s) => s.id).join(', ')} did not exit within ${this.options.closeTimeoutMs} ms; killing them`);
      for (const s of left) s.worker.process.kill('SIGKILL');
      await Promise.all(exits);
    }
  }

  private fork(slot: Slot): void {
    const worker = cluster.fork();
    // Its main thread at once (the threads it starts inherit that), every thread once it asks for its start order.
    this.deprioritise(worker);
    const channel = new IpcChannel(
      endpointOf(worker),
      (what) => this.answer(what),
      this.limits.ipcRequestTimeoutMs,
      (m) => this.onMessage(slot, worker, m as ToPrimary),
    );
    // The real password stays here: a worker serves clients and never talks to ICWS.
    const config: Config = { ...this.config, icws: { ...this.config.icws, password: '' } };
    slot.state = { type: 'starting', worker, channel, startedAt: Date.now(), startOrder: { t: 'start', worker: slot.id, config } };
    worker.once('exit', (code, signal) => this.onExit(slot, worker, code, signal));
  }

  /**
   * On cores shared with the workers, the kernel runs the primary first: the writer's latency must not depend on the
   * fan-out's load (docs/architecture.md, "Processes"; websocket.workerNice). Lowering a child's priority needs no
   * privilege where the system allows it; where it does not, the worker runs at the primary's, said once.
   */
  private deprioritise(worker: Worker): void {
    const pid = worker.process.pid;
    const nice = this.config.websocket.workerNice;
    if (pid === undefined || nice === 0) return;
    const refused = lowerPriority(pid, nice);
    if (refused && !this.priorityWarned) {
      this.priorityWarned = true;
      this.log.warn(`cannot lower the priority of the workers (websocket.workerNice ${nice}): ${refused.message}; they run at the primary's`);
    }
  }

  private onMessage(slot: Slot, worker: Worker, m: ToPrimary): void {
    if (!isMessage(m)) return;
    const s = slot.state;
    // The channel is closed when its worker exits: what arrives is this worker's.
    if (s.type === 'down' || s.type === 'restarting' || s.worker !== worker) return;
    switch (m.t) {
      case 'awaiting-start':
        this.deprioritise(worker);
        if (s.type === 'starting') s.channel.send(s.startOrder);
        return;
      case 'listening':
        slot.state = { type: 'serving', worker, channel: s.channel, startedAt: s.startedAt, clients: 0 };
        this.log.info(`worker ${slot.id} (pid ${worker.process.pid}) serves port ${m.port}`, { worker: slot.id });
        if (this.phase.type === 'starting' && this.slots.every((x) => x.state.type === 'serving')) this.phase.resolve();
        return;
      case 'clients':
        if (s.type === 'serving') s.clients = m.count;
        return;
      case 'failed':
        if (!this.failStart(new WorkerStartError(m.exitCode, m.message)))
          this.log.error(`worker ${slot.id} could not start: ${m.message}`, { worker: slot.id });
        return;
    }
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    const s = slot.state;
    if (s.type === 'down' || s.type === 'restarting' || s.worker !== worker) return;
    s.channel.close(`worker ${slot.id} exited`);
    slot.state = { type: 'down' };
    if (this.closing) return;
    if (this.failStart(new WorkerStartError(1, `worker ${slot.id} exited during its start (${signal ?? `code ${code}`})`))) return;
    if (Date.now() - s.startedAt >= this.limits.stableAfterMs) slot.backoff.reset();
    const delay = slot.backoff.next();
    this.log.warn(`worker ${slot.id} exited (${signal ?? `code ${code}`}); starting it again in ${delay} ms`, { worker: slot.id, exitCode: code, signal });
    slot.state = {
      type: 'restarting',
      timer: setTimeout(() => {
        if (!this.closing) this.fork(slot);
      }, delay),
    };
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
      this.slots.flatMap((s) => {
        const state = s.state;
        return state.type === 'serving'
          ? [(async () => ({ process: s.id, metrics: await state.channel.request<WorkerMetrics>('metrics', `worker ${s.id}`) }))()]
          : [];
      }),
    );
    for (const a of answers) {
      if (a.status === 'fulfilled') parts.push(a.value);
      else this.log.warn(`/metrics without one worker: ${(a.reason as Error).message}`);
    }
    const aggregated = aggregateProcessMetrics(parts);
    return { contentType: aggregated.contentType, text: await aggregated.metrics() };
  }
}
