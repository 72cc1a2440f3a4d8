/**
 * Exponential backoff with jitter, capped. One instance per retry loop; `reset()` after a success.
 * delay(n) = min(maxMs, initialMs · multiplier^n), then jittered down by up to `jitter` of itself so that many
 * clients do not retry in step.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** 0 = no jitter, 1 = anywhere from 0 to the full delay. */
  jitter: number;
}

export class Backoff {
  private attempt = 0;
  constructor(
    readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay in ms, and counts the attempt. */
  next(): number {
    const { initialMs, maxMs, multiplier, jitter } = this.options;
    const base = Math.min(maxMs, initialMs * Math.pow(multiplier, this.attempt));
    this.attempt++;
    return Math.round(base * (1 - jitter * this.random()));
  }

  /** Skip straight to the longest delay (e.g. after an authentication failure: never hammer a server that locks accounts). */
  longest(): number {
    this.attempt = Math.ceil(Math.log(this.options.maxMs / this.options.initialMs) / Math.log(Math.max(this.options.multiplier, 1.0001))) + 1;
    return Math.round(this.options.maxMs * (1 - this.options.jitter * this.random() * 0.5));
  }

  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Resolves after `ms`, or early (rejecting with the signal's reason) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
