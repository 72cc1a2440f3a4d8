/**
 * The collections after a big full replace (src/util/collect-garbage.ts): they give back the heap a replace's garbage
 * left, in a process started without --expose-gc, as icwatch is.
 */
import { expect } from 'chai';
import { collectAfterReplace, collectGarbage, COLLECT_AFTER_REPLACE_OF, type Collected } from '../../src/util/collect-garbage.js';

/** About `mib` MiB of parsed users, the kind a full replace holds until it is applied. */
function parsedUsers(mib: number): unknown[] {
  const users: unknown[] = [];
  for (let i = 0; i < mib * 2 ** 10; i++) users.push(JSON.parse(`{"t":"${'y'.repeat(900)}${i}","n":[${i}]}`));
  return users;
}

describe('collectGarbage', () => {
  it('collects what a replace left, without --expose-gc', async () => {
    expect(process.execArgv.join(' ')).not.to.include('expose-gc');
    // Held until they are all parsed (promoted to the old generation), then dropped.
    expect(parsedUsers(64)).to.have.length(64 * 2 ** 10);
    const collected = await collectGarbage(2);
    expect(collected, 'gc available').to.not.equal(undefined);
    expect(collected!.afterMiB).to.be.lessThan(collected!.beforeMiB);
    expect(collected!.ms).to.be.at.least(0);
  });

  it('runs after a replace of COLLECT_AFTER_REPLACE_OF users or more, not after a smaller one', async () => {
    const reports: Array<Collected | undefined> = [];
    collectAfterReplace(COLLECT_AFTER_REPLACE_OF - 1, (c) => reports.push(c));
    collectAfterReplace(COLLECT_AFTER_REPLACE_OF, (c) => reports.push(c));
    for (let i = 0; i < 100 && reports.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 600));
    expect(reports).to.have.length(1);
    expect(reports[0]!.heapMiB).to.be.a('number');
  });
});
