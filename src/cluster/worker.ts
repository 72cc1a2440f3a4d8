/**
 * A worker of `icwatch run` (docs/architecture.md, "Processes"): a serving Daemon (HTTP and the WebSocket fan-out on
 * the shared port, following the mirror in Redis on its own) whose /metrics, /readyz and status page ask the primary
 * over IPC. It takes its orders from the primary: a commit wakes its fan-out, "shutdown" closes its clients with 1001
 * and ends it, and a primary that is gone (IPC disconnect) ends it at once.
 */
import { performance } from 'node:perf_hooks';
import type { Config } from '../config/defaults.js';
import { Daemon } from '../daemon/daemon.js';
import { buildFanout } from '../daemon/build-stages.js';
import type { FanoutServer } from '../fanout/server.js';
import { createLogger } from '../log/logger.js';
import { Metrics } from '../metrics/metrics.js';
import { endpointOf, IpcChannel } from './ipc.js';
import { CLUSTER_LIMITS } from './limits.js';
import { primaryLink } from './primary-state.js';
import { isMessage, type AggregatedMetrics, type PrimaryState, type ToPrimary, type ToWorker } from './messages.js';

/** How often at most a worker tells the primary its client count (the status page's total). */
export const CLIENT_COUNT_INTERVAL_MS = 1000;
/** The exit code of a worker whose primary is gone. */
const PRIMARY_GONE_EXIT = 1;

/** Waits for the primary's first message, which carries the worker's id and the configuration. */
function startOrder(): Promise<{ worker: string; config: Config }> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown) => {
      if (!isMessage(m) || m.t !== 'start') return;
      process.off('message', onMessage);
      const start = m as Extract<ToWorker, { t: 'start' }>;
      resolve({ worker: start.worker, config: start.config });
    };
    process.on('message', onMessage);
    // Messages sent before a listener exists are lost: the primary sends the order when asked.
    process.send!({ t: 'awaiting-start' } satisfies ToPrimary);
  });
}

export async function runWorker(): Promise<number> {
  // Started without a primary to obey (run by hand): nothing to do.
  if (!process.send) return 1;
  const goneBeforeStart = () => process.exit(PRIMARY_GONE_EXIT);
  process.once('disconnect', goneBeforeStart);
  const { worker, config } = await startOrder();
  const logger = createLogger({ level: config.log.level, format: config.log.format }).child({ worker });
  // Only our own listener: node:cluster keeps one of its own on 'disconnect'.
  process.off('disconnect', goneBeforeStart);
  process.once('disconnect', () => {
    if (daemon.state.type === 'draining') return;
    logger.warn('the primary process is gone: exiting', { component: 'cluster' });
    process.exit(PRIMARY_GONE_EXIT);
  });
  // The primary receives the signals meant for icwatch and orders the shutdown (a terminal's ^C reaches every process).
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.on(signal, () => logger.debug(`${signal} ignored: the primary orders the shutdown`, { component: 'cluster' }));

  let fanout: FanoutServer | undefined;
  let listening = false;
  const metrics = new Metrics();
  const channel = new IpcChannel(
    endpointOf(process),
    async (what) => {
      if (what === 'metrics') return metrics.registry.getMetricsAsJSON();
      throw new Error(`a worker does not answer "${what}"`);
    },
    CLUSTER_LIMITS.ipcRequestTimeoutMs,
    (m) => onOrder(m as ToWorker),
  );
  metrics.exposeWith(async () => (await channel.request<AggregatedMetrics>('metrics', 'the primary process')).text);
  const daemon = new Daemon(config, {
    logger,
    metrics,
    buildStages: async (ctx) => ({ fanout: (fanout = buildFanout(ctx, worker)) }),
    process: { type: 'worker', primary: primaryLink(() => channel.request<PrimaryState>('state', 'the primary process')) },
    onListening: (port) => {
      listening = true;
      channel.send({ t: 'listening', port } satisfies ToPrimary);
    },
  });
  const onOrder = (m: ToWorker) => {
    if (m.t === 'commit') {
      fanout?.notifyCommitted({ fromSeq: m.batch.fromSeq, toSeq: m.batch.toSeq, receivedAt: m.batch.receivedAtMs - performance.timeOrigin });
    } else if (m.t === 'shutdown') void daemon.stop(m.reason);
  };
  const counter = reportClientCount(
    () => fanout?.clientCount ?? 0,
    (count) => channel.send({ t: 'clients', count } satisfies ToPrimary),
  );

  await daemon.start();
  const code = await daemon.exited;
  clearInterval(counter);
  if (!listening && code !== 0 && daemon.state.type === 'failed') {
    const failed = daemon.state;
    channel.send({ t: 'failed', exitCode: code, message: failed.reason } satisfies ToPrimary);
  }
  channel.close('the worker stopped');
  return code;
}

function reportClientCount(count: () => number, send: (count: number) => void): NodeJS.Timeout {
  let last = -1;
  const timer = setInterval(() => {
    const n = count();
    if (n !== last) send((last = n));
  }, CLIENT_COUNT_INTERVAL_MS);
  timer.unref();
  return timer;
}
