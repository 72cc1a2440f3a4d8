/**
 * /readyz and the status page as a worker of `icwatch run` serves them (docs/architecture.md, "Processes"): the
 * primary runs the ICWS session and the mirror, the worker serves the clients, so both halves count. A primary that
 * does not answer (within CLUSTER_LIMITS.ipcRequestTimeoutMs) makes the worker not ready, saying so.
 */
import type { PrimaryLink } from '../daemon/daemon-options.js';
import type { Readiness, StatusView } from '../http/types.js';
import type { HistogramSample } from '../http/status-json.js';

/** The primary's side, as it answers a worker's "state" question. */
export interface PrimaryState {
  readiness: Readiness;
  status: StatusView;
  /** icwatch_lag_seconds as the live page's chart reads it (the redis stage is observed in the primary). */
  lag: Record<string, HistogramSample>;
}

export function combineReadiness(primary: PrimaryState | Error, own: Readiness): Readiness {
  if (primary instanceof Error) {
    return {
      ready: false,
      checks: own.checks,
      reason: `the primary process did not answer: ${primary.message}`,
      ...(own.lastError ? { lastError: own.lastError } : {}),
    };
  }
  const p = primary.readiness;
  const redis = (p.checks['Redis reachable'] ?? true) && (own.checks['Redis reachable'] ?? true);
  const checks = { ...p.checks, ...own.checks, 'Redis reachable': redis };
  const reason = p.reason ?? own.reason;
  const lastError = p.lastError ?? own.lastError;
  return {
    // The primary's other fields too (its leadership: src/ha).
    ...p,
    ready: p.ready && own.ready,
    checks,
    ...(reason ? { reason } : {}),
    ...(lastError ? { lastError } : {}),
  };
}

/** The primary's view (session, mirror, every worker's clients) with this worker's WebSocket lag. */
export function combineStatus(primary: PrimaryState | Error, own: StatusView): StatusView {
  if (primary instanceof Error) return { ...own, lastError: `the primary process did not answer: ${primary.message}` };
  const p = primary.status;
  return { ...p, lag: { ...p.lag, websocket: own.lag.websocket ?? {} } };
}

/** The primary's redis stage with this worker's websocket stage. */
export function combineLag(primary: PrimaryState | Error, own: Record<string, HistogramSample>): Record<string, HistogramSample> {
  if (primary instanceof Error) return own;
  return { ...own, ...(primary.lag.redis ? { redis: primary.lag.redis } : {}) };
}

/** A worker's link to its primary: each answer of the worker's merged with the primary's `state`, or why it could not be had. */
export function primaryLink(state: () => Promise<PrimaryState>): PrimaryLink {
  const primary = (): Promise<PrimaryState | Error> => state().catch((err: unknown) => err as Error);
  return {
    readiness: async (own) => combineReadiness(await primary(), own),
    status: async (own) => combineStatus(await primary(), own),
    lagHistograms: async (own) => combineLag(await primary(), own),
  };
}
