/**
 * The lag histograms for the page's live chart: icwatch_lag_seconds per stage as cumulative bucket counts, so the
 * page can difference two polls and see the lag of the changes in between (the quantiles since start, on the
 * status page, move too slowly to show a spike).
 */
import type { Metrics } from '../metrics/metrics.js';

export interface HistogramSample {
  count: number;
  sum: number;
  /** [upper bound (null = +Inf), cumulative count], by increasing bound. */
  buckets: [number | null, number][];
}

export async function lagHistograms(metrics: Metrics): Promise<Record<string, HistogramSample>> {
  const { values } = await metrics.lag.get();
  const out: Record<string, HistogramSample> = {};
  const of = (stage: string) => (out[stage] ??= { count: 0, sum: 0, buckets: [] });
  for (const v of values) {
    const labels = v.labels as Record<string, string | number | undefined>;
    const stage = String(v.labels.stage ?? '');
    if (!stage) continue;
    if (v.metricName?.endsWith('_bucket')) of(stage).buckets.push([labels.le === '+Inf' ? null : Number(labels.le), v.value]);
    else if (v.metricName?.endsWith('_count')) of(stage).count = v.value;
    else if (v.metricName?.endsWith('_sum')) of(stage).sum = v.value;
  }
  for (const h of Object.values(out)) h.buckets.sort((a, b) => (a[0] ?? Infinity) - (b[0] ?? Infinity));
  return out;
}
