/** Marble tests of coalesceWhileBusy: order kept, batches formed while busy, the waiting bound, end after the work. */
import { expect } from 'chai';
import { of, Subject, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { coalesceWhileBusy, type CoalesceOptions } from '../../src/pipeline/coalesce.js';

const scheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });
const keepAll: CoalesceOptions<string> = { maxBatch: 100, maxWaiting: 100, onFull: (w, v) => [...w, v] };

describe('coalesceWhileBusy', () => {
  it('writes a lone value at once and coalesces what arrives while a batch is busy, in order', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = hot('  a-bc------d-----|');
      // Each batch takes 4 frames; the output is the batch joined.
      const project = (batch: string[]) => cold('----(x|)', { x: batch.join('') });
      expectObservable(source.pipe(coalesceWhileBusy(project, keepAll))).toBe('----x---y-----z-|', { x: 'a', y: 'bc', z: 'd' });
    });
  });

  it('never runs two batches at once', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('ab---|');
      const inner = cold('--(x|)');
      const project = () => inner;
      expectObservable(source.pipe(coalesceWhileBusy(project, keepAll))).toBe('--x-x|');
      expectSubscriptions(inner.subscriptions).toBe(['^-!', '--^-!']);
    });
  });

  it('cuts batches at maxBatch, keeping the order', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = hot('  a(bcde)----------|');
      const project = (batch: string[]) => cold('--(x|)', { x: batch.join('') });
      const options = { ...keepAll, maxBatch: 2 };
      expectObservable(source.pipe(coalesceWhileBusy(project, options))).toBe('--x-y-z----------|', { x: 'a', y: 'bc', z: 'de' });
    });
  });

  it('hands the overflow to onFull and goes on with what it returns', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = hot('  a-b-c-d------|');
      const project = (batch: string[]) => cold('-------(x|)', { x: batch.join('') });
      const options: CoalesceOptions<string> = {
        maxBatch: 10,
        maxWaiting: 2,
        // Past the bound: drop what waits and keep only the newcomer, marked.
        onFull: (_waiting, v) => [v.toUpperCase()],
      };
      expectObservable(source.pipe(coalesceWhileBusy(project, options))).toBe('-------x------(y|)', { x: 'a', y: 'D' });
    });
  });

  it('makes one batch of the values given together, and runs a synchronous project for each batch, in order', async () => {
    const out: string[] = [];
    const source = new Subject<string>();
    source.pipe(coalesceWhileBusy((batch) => of(batch.join('')), keepAll)).subscribe((v) => out.push(v));
    source.next('a');
    source.next('b');
    expect(out, 'nothing before the code that gave the values has run').to.deep.equal([]);
    await Promise.resolve();
    source.next('c');
    await Promise.resolve();
    source.next('d');
    source.next('e');
    source.complete();
    await new Promise((r) => setImmediate(r));
    expect(out).to.deep.equal(['ab', 'c', 'de']);
  });

  it('delivers a source error only after the values before it were worked on', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = hot('  ab#', undefined, new Error('fatal'));
      const project = (batch: string[]) => cold('---(x|)', { x: batch.join('') });
      expectObservable(source.pipe(coalesceWhileBusy(project, keepAll))).toBe('---x--(y#)', { x: 'a', y: 'b' }, new Error('fatal'));
    });
  });

  it('passes an error of project on (the caller retries inside project when it can)', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const source = hot('a-b|');
      const project = () => throwError(() => new Error('apply failed'));
      expectObservable(source.pipe(coalesceWhileBusy(project, keepAll))).toBe('#', undefined, new Error('apply failed'));
    });
  });

  it('reports how many values wait', () => {
    const counts: number[] = [];
    scheduler().run(({ cold, hot }) => {
      const source = hot('abc|');
      source.pipe(coalesceWhileBusy(() => cold('----|'), { ...keepAll, onWaiting: (n) => counts.push(n) })).subscribe();
    });
    expect(counts).to.deep.equal([1, 0, 1, 2, 0]);
  });
});
