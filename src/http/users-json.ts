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

/**
 * The bytes written so far, in one buffer that grows by doubling: a directory's JSON is allocated about once, not once
 * per slice and once more to join the slices (external memory is what makes V8 run its full collections here).
 */
class GrowingBuffer {
  private buf: Buffer;
  private length = 0;

  constructor(expectedBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, expectedBytes));
  }

  append(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (this.length + bytes > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + bytes));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    this.length += this.buf.write(text, this.length);
  }

  /** The bytes written: no copy, unless a quarter of the buffer would be held for nothing. */
  bytes(): Buffer {
    const written = this.buf.subarray(0, this.length);
    return this.buf.length > this.length * 1.25 ? Buffer.from(written) : written;
  }
}

/** `expectedBytes`: a guess of the size (the last body of the same query), so that the buffer rarely grows. */
export function directoryJson(p: DirectoryPicture, props: PropsFilter, sliceMs: number, expectedBytes = p.ids.length * 256): Promise<Buffer> {
  return usersListJson(`{"epoch":${JSON.stringify(p.epoch)},"seq":${JSON.stringify(p.seq)},"users":[`, p, props, sliceMs, expectedBytes);
}

/**
 * The users of `p` as a JSON array closing an object that `opening` begins (up to and with the array's `[`), in
 * slices: `GET /v1/users` and the agents of `GET /v1/workgroups/<id>`.
 */
export async function usersListJson(
  opening: string,
  p: Pick<DirectoryPicture, 'ids' | 'users'>,
  props: PropsFilter,
  sliceMs: number,
  expectedBytes = p.ids.length * 256,
): Promise<Buffer> {
  const out = new GrowingBuffer(expectedBytes);
  out.append(opening);
  const budget = new TurnBudget(sliceMs);
  const n = p.ids.length;
  for (let i = 0; i < n;) {
    const slice: string[] = [];
    do {
      for (const end = Math.min(n, i + STEP_USERS); i < end; i++) slice.push(JSON.stringify({ id: p.ids[i], ...pickProps(p.users[i]!, props) }));
    } while (i < n && !budget.spent());
    out.append(`${slice.length === i ? '' : ','}${slice.join(',')}`);
    if (i < n) await budget.yield();
  }
  out.append(']}');
  return out.bytes();
}
