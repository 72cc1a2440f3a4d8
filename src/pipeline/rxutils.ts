/** Small RxJS operators of the pipeline's own (coalesceWhileBusy has a module to itself: coalesce.ts). */
import { Observable, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';

interface EventSource {
  on(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

/**
 * Also emits `value` each time `emitter` emits `event`, for as long as the source runs (it completes and errors
 * with the source). E.g. a Redis client's "ready": the mirror must look at Redis again after a reconnect.
 */
export function alsoOnEvent<T>(emitter: EventSource, event: string, value: T): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const listener = () => subscriber.next(value);
      emitter.on(event, listener);
      const sub = source.subscribe(subscriber);
      return () => {
        emitter.off(event, listener);
        sub.unsubscribe();
      };
    });
}

/**
 * Calls `fn` every `intervalMs` for as long as the source runs (0 = never); passes the source through unchanged.
 * E.g. the periodic verification of the mirror: only a running pipeline (the leader's) asks for one.
 */
export function whileRunningEvery<T>(intervalMs: number, fn: () => void): MonoTypeOperatorFunction<T> {
  return (source) =>
    intervalMs <= 0
      ? source
      : new Observable<T>((subscriber) => {
          const timer = setInterval(fn, intervalMs);
          timer.unref();
          const sub = source.subscribe(subscriber);
          return () => {
            clearInterval(timer);
            sub.unsubscribe();
          };
        });
}

/**
 * Also emits what `other` emits, for as long as the source runs (it completes and errors with the source, which
 * `merge` would not do: `other` never completes). E.g. the operator's requests about held removals.
 */
export function alsoFrom<T, U>(other: Observable<U>): OperatorFunction<T, T | U> {
  return (source) =>
    new Observable<T | U>((subscriber) => {
      const side = other.subscribe({ next: (v) => subscriber.next(v), error: (e: unknown) => subscriber.error(e) });
      const sub = source.subscribe(subscriber);
      return () => {
        side.unsubscribe();
        sub.unsubscribe();
      };
    });
}
