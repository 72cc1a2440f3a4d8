/**
 * What a WebSocket client saw, as the integrity chaos tests judge it (README "Integrity"): every change entry by
 * (epoch, seq), for the whole test. A seq is never reused for different content within one epoch; a pair seen with
 * two contents is a problem the test reports.
 */
import type { IcwatchClient } from '../../src/client/index.js';

export class SeqRecorder {
  private readonly seen = new Map<string, string>();
  readonly problems: string[] = [];
  readonly epochs = new Set<string>();
  resets = 0;

  constructor(private readonly client: IcwatchClient) {
    client.on('change', (change) => {
      const epoch = this.client.epoch ?? '?';
      this.epochs.add(epoch);
      const key = `${epoch}/${change.seq}`;
      const content = JSON.stringify(change);
      const before = this.seen.get(key);
      if (before !== undefined && before !== content) this.problems.push(`${key} seen as ${before} and as ${content}`);
      this.seen.set(key, content);
    });
    client.on('reset', () => this.resets++);
    client.on('hello', (hello) => hello.epoch && this.epochs.add(hello.epoch));
  }

  /** Changes recorded so far. */
  get size(): number {
    return this.seen.size;
  }
}
