/**
 * The primary process of `icwatch run` (docs/architecture.md, "Processes"): a Daemon that runs the ICWS feed, the
 * pipeline and the mirror writer (role all; nothing for role fanout) and serves no sockets: its fan-out stage is
 * the WorkerPool, whose workers serve http.port. Workers ask it for its readiness and status over IPC.
 */
import type { Config } from '../config/defaults.js';
import { Daemon } from '../daemon/daemon.js';
import { leaderStagesFactory } from '../daemon/build-stages.js';
import { componentLogger, type Logger } from '../log/logger.js';
import { Metrics } from '../metrics/metrics.js';
import { lagHistograms } from '../http/status-json.js';
import { WorkerPool } from './pool.js';

/** The share of shutdown.timeoutMs the workers get to close their clients and exit; the rest drains the writes. */
const WORKERS_SHARE_OF_SHUTDOWN = 0.5;

export function createPrimaryDaemon(config: Config, logger: Logger): Daemon {
  const metrics = new Metrics();
  const pool = new WorkerPool(config, {
    logger: componentLogger(logger, 'cluster'),
    metrics,
    closeTimeoutMs: Math.floor(config.shutdown.timeoutMs * WORKERS_SHARE_OF_SHUTDOWN),
  });
  const daemon = new Daemon(config, {
    logger,
    metrics,
    process: { type: 'primary' },
    buildStages: async (ctx) => ({ ...(config.role === 'all' ? { leader: leaderStagesFactory(ctx) } : {}), fanout: pool }),
  });
  pool.answerStateWith(async () => ({ readiness: await daemon.readiness(), status: await daemon.status(), lag: await lagHistograms(metrics) }));
  logger.info(`${pool.size} worker${pool.size === 1 ? '' : 's'} will serve http.port (websocket.workers)`, { component: 'cluster' });
  return daemon;
}
