/**
 * What the end-to-end benches read off a running `icwatch run`: from its /metrics text, the quantile of a histogram
 * over a window (two scrapes), its observations by bucket, and the resident memory of every process; from /proc, a
 * process's VmRSS / VmHWM and the pids of icwatch's processes.
 */
import { readFileSync } from 'node:fs';
import type { IcwatchProcess } from '../test/helpers/processes.js';

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

/** A histogram's buckets (cumulative counts by upper bound) from /metrics text, of the series with these labels. */
export function histogramBuckets(text: string, metric: string, labels: Record<string, string> = {}): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of text.matchAll(new RegExp(`^${metric}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const series = new Map([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(labels).some(([k, v]) => series.get(k) !== v)) continue;
    const le = series.get('le')!;
    out.set(le === '+Inf' ? Infinity : Number(le), Number(m[2]));
  }
  return out;
}

/** icwatch_lag_seconds{stage} buckets. */
export const lagBuckets = (text: string, stage: string) => histogramBuckets(text, 'icwatch_lag_seconds', { stage });

/** The p-quantile (ms) of the observations between two scrapes, interpolated within its bucket like PromQL's. */
export function quantileBetween(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (!total) return NaN;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const lower = i ? bounds[i - 1]! : 0;
      const upper = bounds[i] === Infinity ? lower : bounds[i]!;
      const below = i ? counts[i - 1]! : 0;
      return (lower + ((upper - lower) * (rank - below)) / Math.max(counts[i]! - below, 1)) * 1000;
    }
  }
  return NaN;
}

/** The observations between two scrapes by bucket, for a log line: `≤1 ms 150, ≤2.5 ms 40, ≤5 ms 8, ≤10 ms 2`. */
export function bucketCounts(before: Map<number, number>, after: Map<number, number>): string {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  let below = 0;
  const parts: string[] = [];
  for (const b of bounds) {
    const cumulative = (after.get(b) ?? 0) - (before.get(b) ?? 0);
    if (cumulative > below) parts.push(`${b === Infinity ? '>' + bounds[bounds.length - 2]! * 1000 : '≤' + b * 1000} ms ${cumulative - below}`);
    below = cumulative;
  }
  return parts.join(', ');
}

/** process_resident_memory_bytes of every process in /metrics (labelled worker="primary", "1", …), MiB. */
export function rssMiB(text: string): number {
  let sum = 0;
  for (const m of text.matchAll(/^process_resident_memory_bytes\{worker="[^"]+"\} (\S+)$/gm)) sum += Number(m[1]);
  return round(sum / 1024 / 1024);
}

/** Each process's RSS and heap (used of total) from /metrics, MiB: `primary 95 (40/60), 1 170 (80/120)`. */
export function memoryByProcess(text: string): string {
  const of = (metric: string, worker: string) => Number(new RegExp(`^${metric}\\{worker="${worker}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
  const workers = [...text.matchAll(/^process_resident_memory_bytes\{worker="([^"]+)"\}/gm)].map((m) => m[1]!);
  return workers
    .map(
      (w) =>
        `${w} ${round(of('process_resident_memory_bytes', w), 0)} (${round(of('nodejs_heap_size_used_bytes', w), 0)}/${round(of('nodejs_heap_size_total_bytes', w), 0)})`,
    )
    .join(', ');
}

/** VmRSS (resident now) or VmHWM (the most it has been resident) of a process, MiB. */
export function procStatusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Every icwatch process: the primary (the writer) and its WebSocket workers (websocket.workers), as its log names them. */
export function icwatchPids(icwatch: IcwatchProcess): number[] {
  return [icwatch.child.pid!, ...[...icwatch.stdout().matchAll(/worker \d+ \(pid (\d+)\) serves port/g)].map((m) => Number(m[1]))];
}
