/**
 * The collections after a big full replace (src/util/collect-garbage.ts): they give back the heap a replace's garbage
 * left, in a process started without --expose-gc, as icwatch is.
 */
import { expect } from 'chai';
import { Activity, collectAfterReplace, collectGarbage, COLLECT_AFTER_REPLACE_OF, COLLECT_DELAY_MS, type Collected } from '../../src/util/collect-garbage.js';
import { waitFor } from '../helpers/net.js';

/** About `mib` MiB of parsed users, the kind a full replace holds until it is applied. */
function parsedUsers(mib: number): unknown[] {
  const users: unknown[] = [];
  for (let i = 0; i < mib * 2 ** 10; i++) users.push(JSON.parse(`{"t":"${'y'.repeat(900)}${i}","n":[${i}]}`));
  return users;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('collectGarbage', () => {
  it('collects what a replace left, without --expose-gc', () => {
    expect(process.execArgv.join(' ')).not.to.include('expose-gc');
    // Held until they are all parsed (promoted to the old generation), then dropped.
    expect(parsedUsers(64)).to.have.length(64 * 2 ** 10);
    const collected = collectGarbage();
    expect(collected, 'gc available').to.not.equal(undefined);
    expect(collected!.afterMiB).to.be.lessThan(collected!.beforeMiB);
  });

  it('gives the pages back when it compacts: the heap V8 keeps shrinks to about what lives', () => {
    // The users die with this expression; a quarter of them live on.
    const kept = parsedUsers(128).filter((_, i) => i % 4 === 0);
    const scattered = collectGarbage()!;
    const compacted = collectGarbage({ compact: true })!;
    expect(kept).to.have.length(32 * 2 ** 10);
    expect(compacted.afterMiB).to.be.at.most(scattered.afterMiB + 1);
    // 32 MiB of the 128 live on, spread over the pages a plain collection keeps; compacted, they share far fewer.
    expect(compacted.heapMiB, `heap ${scattered.heapMiB} MiB after a plain collection`).to.be.lessThan(scattered.heapMiB - 32);
  });

  it('runs after a replace of COLLECT_AFTER_REPLACE_OF users or more, not after a smaller one', async () => {
    const reports: Array<Collected | undefined> = [];
    collectAfterReplace(COLLECT_AFTER_REPLACE_OF - 1, new Activity(), (c) => reports.push(c));
    collectAfterReplace(COLLECT_AFTER_REPLACE_OF, new Activity(), (c) => reports.push(c));
    await waitFor('the collections', () => reports.length > 0);
    expect(reports).to.have.length(1);
    expect(reports[0]!.heapMiB).to.be.a('number');
  });

  it('waits while the writer is busy: deltas after a replace are not held for it', async () => {
    const writer = new Activity();
    let done!: () => void;
    const batch = writer.during(new Promise<void>((resolve) => (done = resolve)));
    const reports: Array<Collected | undefined> = [];
    collectAfterReplace(COLLECT_AFTER_REPLACE_OF, writer, (c) => reports.push(c));
    await sleep(4 * COLLECT_DELAY_MS);
    expect(reports, 'no collection while a batch is written').to.have.length(0);
    done();
    await batch;
    await waitFor('the collections once the writer rests', () => reports.length > 0);
    expect(reports[0]!.ms).to.be.at.least(0);
  });
});
