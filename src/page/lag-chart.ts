/// <reference lib="dom" />
/**
 * The live lag chart: the status JSON carries icwatch_lag_seconds as cumulative bucket counts per stage; the page
 * differences two polls to get the lag of the changes in between (p99 and mean, interpolated inside the bucket as
 * Prometheus' histogram_quantile does) and draws the last minutes as an SVG line per stage.
 */
import type { HistogramSample } from '../http/status-json.js';

export type { HistogramSample };

export interface WindowLag {
  count: number;
  mean?: number;
  p99?: number;
}

/** The lag of the observations between two samples of one histogram. */
export function windowLag(before: HistogramSample | undefined, after: HistogramSample): WindowLag {
  const count = after.count - (before?.count ?? 0);
  if (count <= 0) return { count: 0 };
  const mean = (after.sum - (before?.sum ?? 0)) / count;
  const rank = 0.99 * count;
  let prevLe = 0;
  let prevCount = 0;
  for (const [i, [le, cumulative]] of after.buckets.entries()) {
    const c = cumulative - (before?.buckets[i]?.[1] ?? 0);
    const bound = le === null ? Infinity : le;
    if (c >= rank) {
      const p99 = bound === Infinity ? prevLe : prevLe + (bound - prevLe) * ((rank - prevCount) / Math.max(c - prevCount, 1e-12));
      return { count, mean, p99 };
    }
    prevLe = bound;
    prevCount = c;
  }
  return { count, mean, p99: prevLe };
}

export interface LagPoint {
  at: number;
  /** Seconds by stage; undefined when nothing passed that stage in the window. */
  p99: Record<string, number | undefined>;
}

const SVG = 'http://www.w3.org/2000/svg';

export class LagChart {
  private readonly points: LagPoint[] = [];

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly stages: readonly string[],
    /** Points kept: the chart's span divided by the poll interval. */
    private readonly maxPoints: number,
    private readonly pollSeconds: number,
  ) {}

  add(point: LagPoint): void {
    this.points.push(point);
    if (this.points.length > this.maxPoints) this.points.shift();
    this.draw();
  }

  private draw(): void {
    const w = 600;
    const h = 140;
    const pad = { left: 52, right: 8, top: 8, bottom: 20 };
    const values = this.points.flatMap((p) => this.stages.map((s) => p.p99[s] ?? 0));
    const top = niceCeiling(Math.max(0.001, ...values));
    const x = (i: number) => pad.left + ((w - pad.left - pad.right) * i) / Math.max(1, this.maxPoints - 1);
    const y = (v: number) => pad.top + (h - pad.top - pad.bottom) * (1 - v / top);
    const offset = this.maxPoints - this.points.length;
    const parts: SVGElement[] = [];
    for (const frac of [0, 0.5, 1]) {
      const v = top * frac;
      parts.push(el('line', { x1: pad.left, x2: w - pad.right, y1: y(v), y2: y(v), class: 'grid' }));
      parts.push(el('text', { x: pad.left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, `${(v * 1000).toFixed(v < 0.01 ? 1 : 0)} ms`));
    }
    parts.push(el('text', { x: pad.left, y: h - 4, class: 'axis' }, `${Math.round((this.maxPoints * this.pollSeconds) / 60)} min ago`));
    parts.push(el('text', { x: w - pad.right, y: h - 4, 'text-anchor': 'end', class: 'axis' }, 'now'));
    for (const stage of this.stages) {
      const d = this.points
        .map((p, i) => {
          const v = p.p99[stage];
          return v === undefined ? null : `${x(offset + i).toFixed(1)},${y(v).toFixed(1)}`;
        })
        .filter((s): s is string => s !== null)
        .join(' ');
      if (d) parts.push(el('polyline', { points: d, class: `line ${stage}` }));
    }
    this.svg.replaceChildren(...parts);
  }
}

function niceCeiling(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function el(name: string, attrs: Record<string, string | number>, content?: string): SVGElement {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (content !== undefined) e.textContent = content;
  return e;
}
