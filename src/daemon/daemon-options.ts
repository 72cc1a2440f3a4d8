/** The Daemon's states and options (src/daemon/daemon.ts), and a worker's link to its primary. */
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PrimaryState } from './combined-state.js';
import type { StageFactory } from './stages.js';

export type DaemonState =
  | { type: 'starting' }
  | { type: 'running'; since: number }
  | { type: 'draining'; reason: string }
  | { type: 'stopped'; exitCode: 0 }
  | { type: 'failed'; exitCode: number; reason: string };

export interface DaemonOptions {
  logger: Logger;
  /** Builds the feed, mirror and fan-out (build-stages.ts for the real ones). */
  buildStages: StageFactory;
  metrics?: Metrics;
  /** false: no HTTP server (the primary of `icwatch run`: its workers serve the port; docs/architecture.md, "Processes"). */
  serve?: boolean;
  /** Called once the HTTP server listens, with its port. */
  onListening?: (port: number) => void;
  /** A worker's link to the primary: /readyz and the status page combine the primary's state with the worker's. */
  primary?: PrimaryLink;
}

/** How a worker reads the primary's state (bounded by a timeout: it rejects rather than hang /readyz). */
export interface PrimaryLink {
  state(): Promise<PrimaryState>;
}
