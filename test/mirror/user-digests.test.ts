/**
 * What the writer keeps of each user (src/mirror/user-digests.ts): it must answer as a map of property → digest
 * would, whatever was set, added and deleted, with names shared between users of the same shape.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { NO_TEXT, UserDigests } from '../../src/mirror/user-digests.js';

const NAMES = ['configurationId', 'extension', 'statusText', 'workgroups', 'skills', 'title'];

describe('UserDigests', () => {
  it('answers as a Map of property → digest would, over any sequence of sets and deletes', () => {
    const operation = fc.oneof(
      fc.record({ op: fc.constant('set' as const), name: fc.constantFrom(...NAMES), digest: fc.nat({ max: Number.MAX_SAFE_INTEGER }) }),
      fc.record({ op: fc.constant('delete' as const), name: fc.constantFrom(...NAMES) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const digests = new UserDigests();
        const map = new Map<string, number>();
        for (const o of operations) {
          if (o.op === 'set') {
            digests.set(o.name, o.digest);
            map.set(o.name, o.digest);
          } else {
            digests.delete(o.name);
            map.delete(o.name);
          }
          expect([...digests.keys()]).to.deep.equal([...map.keys()]);
          for (const name of NAMES) {
            expect(digests.get(name)).to.equal(map.get(name));
            expect(digests.has(name)).to.equal(map.has(name));
          }
          expect(digests.size).to.equal(map.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('shares one list of names between users with the same properties in the same order, and a change leaves the others alone', () => {
    const a = new UserDigests();
    const b = new UserDigests();
    for (const [i, name] of NAMES.entries()) {
      a.add(name, i);
      b.add(name, 100 + i);
    }
    expect(a.keys()).to.equal(b.keys());
    b.delete('statusText');
    b.set('department', 7);
    expect(a.keys()).to.deep.equal(NAMES);
    expect([...b.keys()]).to.deep.equal(['configurationId', 'extension', 'workgroups', 'skills', 'title', 'department']);
    expect(a.get('statusText')).to.equal(2);
    expect(b.get('workgroups')).to.equal(103);
    expect(b.get('department')).to.equal(7);
  });

  it('keeps no text digest until one is given', () => {
    const user = new UserDigests();
    expect(user.text).to.equal(NO_TEXT);
    user.text = 12345;
    expect(user.text).to.equal(12345);
  });
});
