/**
 * A full garbage collection, asked for once a big full replace is applied. The replace's text and the users parsed
 * from it are garbage by then, but V8 collects its old generation when the heap grows, and a daemon at rest after a
 * sync does not grow: the pages stay resident (a 100k-user sync left some 250 MiB of heap for 85 MiB of live data;
 * docs/architecture.md, "Big directories"). One collection, once the writer rests, which compacts the old generation
 * (V8's --compact-on-every-full-gc, for that collection only; a plain one before it, as there used to be, left the
 * same heap and cost a third more: 87 MiB live of 120 after a 100k-user sync either way). A full collection alone
 * leaves the survivors scattered over the pages, which V8 keeps, and gives them back later, when its memory reducer
 * decides to; with a presence-sized heap that came as a stall of a few hundred ms at a random moment, paid by whatever ran then
 * (on two cores, the fan-out's rounds). Compacting at once costs the writer's event loop a few hundred ms, once per
 * such replace, while it rests; HTTP and the fan-out are answered by the worker processes meanwhile.
 *
 * `gc` is not exposed without node's --expose-gc, which bin/icwatch.js cannot pass to the process it runs in; V8
 * exposes it to contexts created after the flag is set, as Jest does for --logHeapUsage.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full replace of this many users or more is followed by the collection. */
export const COLLECT_AFTER_REPLACE_OF = 20_000;
/** How long the writer must have been at rest before the collection (and how often that is looked at). */
export const COLLECT_DELAY_MS = 200;
/** While the writer stays busy this long after the replace, the collection is skipped. */
const GIVE_UP_AFTER_MS = 60_000;

export interface Collected {
  /** Time the event loop was held. */
  ms: number;
  beforeMiB: number;
  afterMiB: number;
  /** The heap V8 kept (heapTotal) before the collection. */
  heapBeforeMiB: number;
  /** The heap V8 keeps (heapTotal) after the collection. */
  heapMiB: number;
}

let gc: (() => void) | null | undefined;

function exposedGc(): (() => void) | null {
  if (gc === undefined) {
    try {
      // Called without options, gc collects at once (synchronously) and returns nothing.
      const exposed = globalThis.gc ?? (setFlagsFromString('--expose-gc'), runInNewContext('gc') as NodeJS.GCFunction | undefined);
      gc = typeof exposed === 'function' ? () => void exposed() : null;
    } catch {
      gc = null;
    }
  }
  return gc;
}

const mib = (b: number) => Math.round(b / 2 ** 20);

/**
 * Runs one full collection (synchronously), compacting the old generation when asked; what it did, or undefined if gc
 * is unavailable.
 */
export function collectGarbage(options: { compact?: boolean } = {}): Collected | undefined {
  const collect = exposedGc();
  if (!collect) return undefined;
  const { heapUsed: before, heapTotal: heapBefore } = process.memoryUsage();
  const t0 = performance.now();
  if (options.compact) {
    setFlagsFromString('--compact-on-every-full-gc');
    try {
      collect();
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc');
    }
  } else collect();
  const ms = performance.now() - t0;
  const after = process.memoryUsage();
  return { ms: Math.round(ms), beforeMiB: mib(before), afterMiB: mib(after.heapUsed), heapBeforeMiB: mib(heapBefore), heapMiB: mib(after.heapTotal) };
}

/** How long a writer has been at rest: 0 while some work it was given runs. */
export class Activity {
  private running = 0;
  private endedAt = 0;

  during<T>(work: Promise<T>): Promise<T> {
    this.running++;
    return work.finally(() => {
      this.running--;
      this.endedAt = performance.now();
    });
  }

  quietForMs(): number {
    return this.running ? 0 : performance.now() - this.endedAt;
  }
}

let collecting = false;

/**
 * After a full replace of `users` users, if it is big enough: the compacting collection, once the writer has been at
 * rest for COLLECT_DELAY_MS (`writer`), then `report` (undefined: none ran). So the deltas that follow a replace
 * closely do not wait for it; while the writer stays busy its heap grows and V8 collects by itself, so after
 * GIVE_UP_AFTER_MS the collection is skipped. It runs even when the replace grew the heap little (a re-sync that
 * changed nothing: 102 → 113 MiB at 100k users, 60-70 ms to compact): skipped, the garbage is collected later at a
 * moment V8 chooses, which this collection exists to avoid (presence bench runs with the skip reached
 * presenceFanoutP99Ms 70-73 ms, though that figure also varies without it).
 */
export function collectAfterReplace(users: number, writer: Activity, report: (collected: Collected | undefined) => void): void {
  if (users < COLLECT_AFTER_REPLACE_OF || collecting) return;
  collecting = true;
  const ended = (collected: Collected | undefined) => {
    collecting = false;
    report(collected);
  };
  void collectWhenQuiet(writer).then(ended, () => ended(undefined));
}

async function collectWhenQuiet(writer: Activity): Promise<Collected | undefined> {
  const giveUpAt = performance.now() + GIVE_UP_AFTER_MS;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, COLLECT_DELAY_MS).unref());
    if (writer.quietForMs() >= COLLECT_DELAY_MS) return collectGarbage({ compact: true });
    if (performance.now() > giveUpAt) return undefined;
  }
}
