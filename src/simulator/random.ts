/**
 * A small seeded PRNG (mulberry32): users and churn must be the same for the same seed on every machine, which
 * Math.random cannot give.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    // Spread small seeds (1, 2, 3…) over the whole state space so that neighbouring seeds look unrelated.
    this.state = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** `count` distinct items (fewer when the list is shorter), in list order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const n = Math.min(count, items.length);
    if (n <= 0) return [];
    // Selection sampling (Knuth's algorithm S): one pass, no allocation but the result.
    const out: T[] = [];
    for (let i = 0; i < items.length && out.length < n; i++) {
      if ((items.length - i) * this.next() < n - out.length) out.push(items[i]!);
    }
    return out;
  }
}

/** ICWS dates are compact ISO 8601 in UTC: `20171118T063908Z`. */
export function compactIso(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2017-11-18T06:39:08.123Z
  return iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
}
