/**
 * The JSON of `GET /v1/users`, built in slices: `{"epoch","seq","users":[…]}` byte for byte as one JSON.stringify
 * would give it, but serialized a few users at a time, yielding the event loop between slices (src/util/turn-budget.ts).
 * At 100,000 users the body is about 79 MiB: in one piece, its JSON.stringify alone would stop every live delivery of
 * the process for a second or so (README, "HTTP reads").
 */
import { pickProps, type PropsFilter } from '../fanout/frames.js';
import type { UserProps } from '../fanout/snapshot.js';
import { TurnBudget } from '../util/turn-budget.js';

/** Users serialized between two looks at the clock. */
const STEP_USERS = 64;

export interface DirectoryPicture {
  epoch: string | null;
  seq: number;
  /** The users' ids and properties, in the answer's order; not changed while the JSON is built. */
  ids: readonly string[];
  users: readonly UserProps[];
}

export async function directoryJson(p: DirectoryPicture, props: PropsFilter, sliceMs: number): Promise<Buffer> {
  const parts: Buffer[] = [Buffer.from(`{"epoch":${JSON.stringify(p.epoch)},"seq":${JSON.stringify(p.seq)},"users":[`)];
  const budget = new TurnBudget(sliceMs);
  const n = p.ids.length;
  for (let i = 0; i < n;) {
    const slice: string[] = [];
    do {
      for (const end = Math.min(n, i + STEP_USERS); i < end; i++) slice.push(JSON.stringify({ id: p.ids[i], ...pickProps(p.users[i]!, props) }));
    } while (i < n && !budget.spent());
    parts.push(Buffer.from(`${parts.length > 1 ? ',' : ''}${slice.join(',')}`));
    if (i < n) await budget.yield();
  }
  parts.push(Buffer.from(']}'));
  return Buffer.concat(parts);
}
