/** The Daemon's states and options (src/daemon/daemon.ts): which process it is, and a worker's link to its primary. */
import type { HistogramSample } from '../http/status-json.js';
import type { Readiness, StatusView } from '../http/types.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { StageFactory } from '../stages/contracts.js';

export type DaemonState =
  /** `waiting`: what the start waits for (Redis), for /readyz. */
  | { type: 'starting'; waiting?: string }
  | { type: 'running'; since: number }
  /** `deadline`: Date.now() by which the shutdown must be done (shutdown.timeoutMs after it began). */
  | { type: 'draining'; reason: string; deadline: number }
  | { type: 'stopped'; exitCode: 0 }
  | { type: 'failed'; exitCode: number; reason: string };

/**
 * Which process of icwatch the Daemon is (docs/architecture.md, "Processes"), with what that process needs:
 * - `single`: one process serves HTTP and the fan-out and, role all, writes the mirror while it leads (`icwatch demo`,
 *   tests);
 * - `primary`: the primary of `icwatch run`: writes the mirror while it leads and serves no socket (its fan-out stage
 *   is the WorkerPool, whose workers serve http.port);
 * - `worker`: a worker of `icwatch run`: serves HTTP and the fan-out; what it says of itself (/readyz, the status
 *   page, the lag chart) is merged with what the primary says.
 */
export type DaemonProcess = { type: 'single' } | { type: 'primary' } | { type: 'worker'; primary: PrimaryLink };

export interface DaemonOptions {
  logger: Logger;
  /** Builds the feed, mirror and fan-out (build-stages.ts for the real ones). */
  buildStages: StageFactory;
  metrics?: Metrics;
  /** Default `single`. */
  process?: DaemonProcess;
  /** Called once the HTTP server listens, with its port. */
  onListening?: (port: number) => void;
}

/**
 * How a worker's answers are merged with its primary's (src/cluster/primary-state.ts); each asks the primary, bounded
 * by a timeout: a primary that does not answer makes the merged answer say so rather than hang.
 */
export interface PrimaryLink {
  readiness(own: Readiness): Promise<Readiness>;
  status(own: StatusView): Promise<StatusView>;
  lagHistograms(own: Record<string, HistogramSample>): Promise<Record<string, HistogramSample>>;
}
