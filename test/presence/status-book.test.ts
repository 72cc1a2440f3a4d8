/**
 * The writer's memory of statuses (src/mirror/statuses.ts) planning exactly the writes a user would see: what a
 * delta and a full replace write, when `available` is in an entry, and the bound on statuses waiting for their user.
 */
import { expect } from 'chai';
import { ChunkBuilder } from '../../src/mirror/chunk-builder.js';
import type { CatalogueInput, CheckedStatus } from '../../src/mirror/input.js';
import { availableGroupSet } from '../../src/mirror/presence.js';
import { StatusBook } from '../../src/mirror/statuses.js';

const status = (id: string, props: Record<string, unknown>): CheckedStatus => ({
  id,
  props: new Map(Object.entries(props).map(([k, v]) => [k, v === null ? null : JSON.stringify(v)])),
});
const catalogue: CatalogueInput = {
  kind: 'catalogue',
  replace: true,
  removed: [],
  entries: [
    { statusId: 'Available', group: 'AVAILABLE', json: '{"statusId":"Available","groupTag":"AVAILABLE"}' },
    { statusId: 'At Lunch', group: 'BREAK', json: '{"statusId":"At Lunch","groupTag":"BREAK"}' },
  ],
};

/** The status entries a builder holds: [id, sets, dels, data]. */
function statusEntries(b: ChunkBuilder): [string, Record<string, string>, string[], unknown][] {
  const out: [string, Record<string, string>, string[], unknown][] = [];
  const a = b.entryArgs;
  for (let i = 0; i < a.length;) {
    expect(a[i]).to.equal('s');
    const sets = Number(a[i + 2]);
    const dels = Number(a[i + 3]);
    const pairs = a.slice(i + 4, i + 4 + 2 * sets);
    const fields: Record<string, string> = {};
    for (let j = 0; j < pairs.length; j += 2) fields[pairs[j]!] = pairs[j + 1]!;
    out.push([a[i + 1]!, fields, a.slice(i + 4 + 2 * sets, i + 4 + 2 * sets + dels), JSON.parse(a[i + 4 + 2 * sets + dels]!)]);
    i += 5 + 2 * sets + dels;
  }
  return out;
}

describe('StatusBook (the writer memory of statuses)', () => {
  const book = (maxPending = 100) => {
    const b = new StatusBook({ availableGroups: availableGroupSet(['available']), maxPending });
    b.catalogueChanged(new ChunkBuilder(), catalogue);
    return b;
  };

  it('writes what a delta changes, with available only when it changed; an unchanged delta writes nothing', () => {
    const statuses = book();
    let b = new ChunkBuilder();
    statuses.apply(b, status('ann', { statusId: 'AVAILABLE', loggedIn: true, onPhone: false }), false, true);
    expect(statusEntries(b)).to.deep.equal([
      ['ann', { statusId: '"AVAILABLE"', loggedIn: 'true', onPhone: 'false' }, [], { statusId: 'AVAILABLE', loggedIn: true, onPhone: false, available: true }],
    ]);
    b = new ChunkBuilder();
    statuses.apply(b, status('ann', { statusId: 'AVAILABLE', loggedIn: true }), false, true);
    expect(b.entries).to.equal(0);
    statuses.apply(b, status('ann', { notes: 'back at 2' }), false, true);
    statuses.apply(b, status('ann', { onPhone: true }), false, true);
    statuses.apply(b, status('ann', { notes: null }), false, true);
    expect(statusEntries(b).map((e) => e[3])).to.deep.equal([{ notes: 'back at 2' }, { onPhone: true, available: false }, { notes: null }]);
    expect(statusEntries(b)[2]![2]).to.deep.equal(['notes']);
  });

  it('sets a status exactly on a full replace, and clears one the replace leaves out', () => {
    const statuses = book();
    statuses.apply(new ChunkBuilder(), status('bo', { statusId: 'Available', loggedIn: true, notes: 'hi' }), false, true);
    const b = new ChunkBuilder();
    statuses.apply(b, status('bo', { statusId: 'Available', loggedIn: true }), true, true);
    statuses.clear(b, 'bo');
    expect(statusEntries(b).map((e) => e[3])).to.deep.equal([{ notes: null }, { statusId: null, loggedIn: null, available: false }]);
    expect(statuses.size).to.equal(0);
  });

  it('keeps at most maxPending statuses of users not in the mirror, dropping the oldest, and writes one when its user comes', () => {
    const statuses = book(2);
    const b = new ChunkBuilder();
    statuses.apply(b, status('x1', { statusId: 'Available' }), false, false);
    statuses.apply(b, status('x2', { statusId: 'At Lunch' }), false, false);
    statuses.apply(b, status('x1', { loggedIn: true }), false, false);
    statuses.apply(b, status('x3', { statusId: 'Available' }), false, false);
    expect(b.entries).to.equal(0);
    expect(b.droppedStatuses).to.equal(1);
    expect(statuses.pendingCount).to.equal(2);
    const later = new ChunkBuilder();
    statuses.userCreated(later, 'x2');
    statuses.userCreated(later, 'x1');
    expect(statusEntries(later).map((e) => [e[0], e[3]])).to.deep.equal([['x1', { statusId: 'Available', loggedIn: true, available: true }]]);
  });

  it('counts a statusId the catalogue does not know, keeps it, and never calls it available', () => {
    const statuses = book();
    const b = new ChunkBuilder();
    statuses.apply(b, status('cy', { statusId: 'Moon Walk', loggedIn: true, onPhone: false }), false, true);
    expect(b.unknownStatusIds).to.equal(1);
    expect(statusEntries(b)[0]![3]).to.include({ statusId: 'Moon Walk', available: false });
    const more = new ChunkBuilder();
    statuses.catalogueChanged(more, {
      kind: 'catalogue',
      replace: false,
      removed: [],
      entries: [{ statusId: 'moon walk', group: 'AVAILABLE', json: '{"statusId":"moon walk","groupTag":"AVAILABLE"}' }],
    });
    expect(statusEntries(more).map((e) => [e[0], e[3]])).to.deep.equal([['cy', { available: true }]]);
  });
});
