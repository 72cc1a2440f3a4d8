/**
 * `coalesceWhileBusy`: concatMap that batches. When idle, a value starts `project` as soon as the code that gave it
 * has run (asapScheduler: a microtask, so the values given together, as the messages of one socket read, make one
 * batch instead of a batch of one and a second of the rest); values that arrive while a batch is being worked on
 * wait, and the next batch takes all of them (up to maxBatch), in arrival order. So at low load every message is
 * written on its own (lowest latency) and under load the batches grow by themselves (highest throughput, fewest
 * round trips), without ever reordering or running two batches at once.
 *
 * Bounded: at most maxWaiting values wait. One more goes to `onFull`, which returns what waits from then on (it may
 * drop values: the caller knows what that costs and how to recover). Source completion and source errors are
 * delivered only after every value received before them went through `project`: a fatal upstream error never
 * makes the stage lose the work that came before it.
 */
import { asapScheduler, from, Observable, type ObservableInput, type OperatorFunction, Subscription } from 'rxjs';

export interface CoalesceOptions<T> {
  /** Values handed to one call of `project` at most. */
  maxBatch: number;
  /** Values waiting for the batch in progress at most. */
  maxWaiting: number;
  /** A value arrived with maxWaiting values waiting: returns the values that wait from now on. */
  onFull(waiting: readonly T[], incoming: T): T[];
  /** Told the number of values waiting whenever it changes (e.g. a gauge). */
  onWaiting?(count: number): void;
}

export function coalesceWhileBusy<T, R>(project: (batch: T[]) => ObservableInput<R>, options: CoalesceOptions<T>): OperatorFunction<T, R> {
  const maxBatch = Math.max(1, options.maxBatch);
  return (source) =>
    new Observable<R>((subscriber) => {
      let waiting: T[] = [];
      let busy = false;
      let ended: { error: unknown } | 'complete' | undefined;
      const inner = new Subscription();
      const counted = () => options.onWaiting?.(waiting.length);

      const finishIfIdle = () => {
        if (busy || waiting.length || !ended) return;
        if (ended === 'complete') subscriber.complete();
        else subscriber.error(ended.error);
      };
      const next = (): void => {
        // A loop rather than recursion: a project that completes synchronously starts the next batch here.
        while (!busy && waiting.length && !subscriber.closed) {
          const batch = waiting.length <= maxBatch ? waiting : waiting.slice(0, maxBatch);
          waiting = waiting.length <= maxBatch ? [] : waiting.slice(maxBatch);
          counted();
          busy = true;
          let doneSynchronously = false;
          let inLoop = true;
          const run: Subscription = from(project(batch)).subscribe({
            next: (value) => subscriber.next(value),
            error: (err: unknown) => subscriber.error(err),
            complete: () => {
              busy = false;
              if (inLoop) doneSynchronously = true;
              else {
                inner.remove(run);
                next();
              }
            },
          });
          inLoop = false;
          if (!doneSynchronously) inner.add(run);
        }
        finishIfIdle();
      };

      let start: Subscription | undefined;
      const startSoon = () => {
        if (busy || start) return;
        start = asapScheduler.schedule(() => {
          inner.remove(start!);
          start = undefined;
          next();
        });
        inner.add(start);
      };

      const upstream = source.subscribe({
        next: (value) => {
          if (waiting.length >= options.maxWaiting) waiting = options.onFull(waiting, value);
          else waiting.push(value);
          counted();
          startSoon();
        },
        error: (error: unknown) => {
          ended = { error };
          finishIfIdle();
        },
        complete: () => {
          ended = 'complete';
          finishIfIdle();
        },
      });
      return () => {
        upstream.unsubscribe();
        inner.unsubscribe();
      };
    });
}
