/**
 * `node --expose-gc --import tsx bench/mirror-memory.ts N`: prints the heap bytes per user that the writer's
 * in-memory mirror (src/mirror/state.ts) holds for N generated users with the default properties, fed as they
 * arrive over SSE (JSON text → parse → encode → setExact, with the digest of each user's text). Run by bench/directory.bench.ts in a child of its own, because an
 * exact figure needs full collections (--expose-gc) in a process that holds nothing else.
 */
import { DEFAULTS } from '../src/config/defaults.js';
import { checkUser } from '../src/icws/check-user.js';
import { digestOf } from '../src/util/digest.js';
import { ChunkBuilder } from '../src/mirror/chunk-builder.js';
import { MirrorState } from '../src/mirror/state.js';
import { generateUsers } from '../src/simulator/users.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const count = Number(process.argv[2] ?? 100_000);

function userTexts(): string[] {
  const props = new Set(DEFAULTS.subscription.properties);
  return generateUsers(count, 1).map((u) => JSON.stringify(Object.fromEntries(Object.entries(u).filter(([k]) => props.has(k)))));
}

function mirrorOf(texts: string[]): MirrorState {
  const state = new MirrorState(DEFAULTS.redis.indexedProperties);
  for (const text of texts) {
    const user = checkUser(JSON.parse(text), { keepNulls: false, textDigest: digestOf(text) });
    if (user.kind === 'rejected') throw new Error(user.problem);
    state.setExact(new ChunkBuilder(), user);
  }
  return state;
}

/** After a tick (what a synchronous caller held is unreachable by then), a full collection. */
async function heapUsed(): Promise<number> {
  await new Promise((r) => setTimeout(r, 10));
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const texts = userTexts(); // kept to the end: only what the mirror holds is counted
const before = await heapUsed();
const state = mirrorOf(texts);
const after = await heapUsed();
if (state.size !== count || texts.length !== count) throw new Error('mirror size');
process.stdout.write(`${Math.round((after - before) / count)}\n`);
