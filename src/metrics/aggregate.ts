/**
 * One /metrics view over the processes of `icwatch run` (websocket.workers; docs/architecture.md, "Processes"):
 * every process's registry as JSON, merged with prom-client's AggregatorRegistry.aggregate.
 * - icwatch_* counters and histograms are summed: each process counts its own events (the primary the ICWS messages
 *   and Redis writes, each worker its clients' frames), so the sum is the total.
 * - icwatch_ws_clients is summed: the clients of every worker.
 * - Gauges the primary alone sets (icwatch_seq, icwatch_users, …) are declared with aggregator 'max' in metrics.ts,
 *   so the workers' zeros do not hide or multiply the primary's value.
 * - prom-client's process and Node.js metrics (process_*, nodejs_*) describe one process each: they keep one series per
 *   process, labelled `worker` ("primary", "1", "2", …), and are never added up.
 */
import client from 'prom-client';

export type RegistryJson = Awaited<ReturnType<client.Registry['getMetricsAsJSON']>>;

export interface ProcessMetrics {
  /** "primary", or the worker's id. */
  process: string;
  metrics: RegistryJson;
}

/** The label that tells the processes' own series apart. */
export const WORKER_LABEL = 'worker';

const isIcwatchMetric = (name: string) => name.startsWith('icwatch_');

export function aggregateProcessMetrics(parts: ProcessMetrics[]): client.Registry {
  const labelled = parts.map(({ process, metrics }) =>
    metrics.map((m) => (isIcwatchMetric(m.name) ? m : { ...m, values: m.values.map((v) => ({ ...v, labels: { ...v.labels, [WORKER_LABEL]: process } })) })),
  );
  return client.AggregatorRegistry.aggregate(labelled);
}
