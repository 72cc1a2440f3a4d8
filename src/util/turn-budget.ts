/**
 * Long work in slices: a loop asks `spent()` between small steps and awaits `yield()` once it has run for `ms`, so
 * that timers, sockets and other requests get the event loop between slices (setImmediate: after pending I/O).
 * An `await` on something already resolved does not yield: only a macrotask does.
 */
import { performance } from 'node:perf_hooks';

export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class TurnBudget {
  private since = performance.now();

  constructor(private readonly ms: number) {}

  /** This slice has used its time. */
  spent(): boolean {
    return performance.now() - this.since >= this.ms;
  }

  /** Gives the event loop to others, then starts a new slice. */
  async yield(): Promise<void> {
    await nextTurn();
    this.since = performance.now();
  }

  /** Yields when this slice has used its time. */
  async pace(): Promise<void> {
    if (this.spent()) await this.yield();
  }
}
