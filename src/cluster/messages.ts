/**
 * What the primary and the workers of `icwatch run` say to each other over the cluster IPC channel
 * (docs/architecture.md, "Processes"). Everything is plain JSON (node's IPC serialization).
 */
import type { Config } from '../config/defaults.js';
import type { PrimaryState } from './primary-state.js';
import type { RegistryJson } from '../metrics/aggregate.js';

/** A commit forwarded as a wake-up; `receivedAtMs` is absolute (performance.timeOrigin + now), valid in any process. */
export interface CommitNotice {
  fromSeq: number;
  toSeq: number;
  receivedAtMs: number;
}

export type ToWorker =
  | { t: 'start'; worker: string; config: Config }
  | { t: 'commit'; batch: CommitNotice }
  /** Close every client with 1001, close the port, exit 0. */
  | { t: 'shutdown'; reason: string }
  | Request
  | Reply;

export type ToPrimary =
  /** The worker listens for its start order. */
  | { t: 'awaiting-start' }
  /** The worker's HTTP server listens (on the port all workers share). */
  | { t: 'listening'; port: number }
  /** The worker's connected clients, sent when the count changes (at most once per CLIENT_COUNT_INTERVAL_MS). */
  | { t: 'clients'; count: number }
  /** The worker could not start: the primary exits with `exitCode` when this is the first start. */
  | { t: 'failed'; exitCode: number; message: string }
  | Request
  | Reply;

/** Questions either side may ask (answered with a Reply of the same `rid`). */
export type Request = { t: 'request'; rid: number; what: 'metrics' | 'state' };
export type Reply = { t: 'reply'; rid: number; body?: unknown; error?: string };

export type { PrimaryState };

/** A worker's metrics, or the aggregate the primary built for a worker's /metrics. */
export type WorkerMetrics = RegistryJson;
export interface AggregatedMetrics {
  contentType: string;
  text: string;
}

export function isMessage(m: unknown): m is { t: string } {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}
