/**
 * Quantiles estimated from a prom-client histogram (linear interpolation inside the bucket, as Prometheus'
 * histogram_quantile does), for the status page.
 */
import type { Histogram } from 'prom-client';

/** Quantile `q` (0..1) of the observations with these labels; undefined when there are none. */
export async function histogramQuantile(histogram: Histogram<string>, q: number, labels: Record<string, string> = {}): Promise<number | undefined> {
  const { values } = await histogram.get();
  const matches = (l: Record<string, unknown>) => Object.entries(labels).every(([k, v]) => l[k] === v);
  const buckets = values
    .filter((v) => v.metricName?.endsWith('_bucket') && matches(v.labels))
    .map((v) => ({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), count: v.value }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe; // above the last finite bucket: its bound is all we know
      return prevLe + (b.le - prevLe) * ((rank - prevCount) / Math.max(b.count - prevCount, 1e-12));
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
