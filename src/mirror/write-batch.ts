/** What the pipeline hands the mirror's writer: the writes of a batch, and how far the batch got. */
import type { HeldRequest } from './held.js';
import type { ReceivedUsers } from './input.js';

/** What the pipeline hands the writer. */
export type WriteItem =
  | { kind: 'delta'; received: ReceivedUsers }
  | { kind: 'replace'; received: ReceivedUsers; reason: string }
  /** Redis reconnected: it may have restarted without its data; reload before anything else. */
  | { kind: 'reload' }
  /** The operator's word on held removals (`icwatch removals --apply | --discard`), in order with the messages. */
  | { kind: 'held'; request: HeldRequest; taken?: boolean };

/** A batch and how far it got: a retry of write$ goes on after the items already committed. */
export class WriteBatch {
  /** Items at the head of `items` whose effect is committed. */
  done = 0;
  constructor(readonly items: readonly WriteItem[]) {}
  get remaining(): number {
    return this.items.length - this.done;
  }
}
