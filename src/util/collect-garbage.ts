/**
 * Full garbage collections, asked for once a big full replace is applied. The replace's text and the users parsed
 * from it are garbage by then, but V8 collects its old generation when the heap grows, and a daemon at rest after a
 * sync does not grow: the pages stay resident (a 100k-user sync left some 250 MiB of heap for 85 MiB of live data;
 * docs/architecture.md, "Big directories"). Two collections, apart: the second compacts what the first left
 * scattered and the pages go back to the system. Each holds the writer's event loop for tens of milliseconds, once
 * per such replace; HTTP and the fan-out are answered by the worker processes meanwhile.
 *
 * `gc` is not exposed without node's --expose-gc, which bin/icwatch.js cannot pass to the process it runs in; V8
 * exposes it to contexts created after the flag is set, as Jest does for --logHeapUsage.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full replace of this many users or more is followed by the collections. */
export const COLLECT_AFTER_REPLACE_OF = 20_000;
/** Time for the replace's replies and logging to finish (and their garbage to be made) before each collection. */
const COLLECT_DELAY_MS = 200;
const COLLECTIONS = 2;

export interface Collected {
  /** Time the event loop was held, all collections together. */
  ms: number;
  beforeMiB: number;
  afterMiB: number;
  /** The heap V8 keeps (heapTotal) after the last collection. */
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

/** Runs `count` full collections, `delayMs` apart; resolves with what they did, or undefined if gc is unavailable. */
export async function collectGarbage(count = 1, delayMs = 0): Promise<Collected | undefined> {
  const collect = exposedGc();
  if (!collect) return undefined;
  const before = process.memoryUsage().heapUsed;
  let ms = 0;
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
    const t0 = performance.now();
    collect();
    ms += performance.now() - t0;
  }
  const after = process.memoryUsage();
  return { ms: Math.round(ms), beforeMiB: mib(before), afterMiB: mib(after.heapUsed), heapMiB: mib(after.heapTotal) };
}

/** After a full replace of `users` users, if it is big enough to be worth it: the collections, then `report`. */
export function collectAfterReplace(users: number, report: (collected: Collected | undefined) => void): void {
  if (users < COLLECT_AFTER_REPLACE_OF) return;
  void collectGarbage(COLLECTIONS, COLLECT_DELAY_MS).then(report);
}
