import { expect } from 'chai';
import fc from 'fast-check';
import { startSimulator, type User } from '../../src/simulator/index.js';
import { connect, poll, subscribe, type Json } from './raw-client.js';

const PROPERTIES = ['extension', 'statusText', 'workgroups', 'skills', 'personalInformationProperties', 'alias', 'notes', 'lastModifiedDate'];

/** Applies usersMessages as the vendor's users page says a client must (docs/icws.md "Messages"): full replace, then added / changed (null = cleared) / removed. */
function fold(messages: Json[], cache = new Map<string, Record<string, unknown>>()) {
  for (const m of messages) {
    if (!m.isDelta) cache.clear();
    for (const u of m.added ?? []) cache.set(u.configurationId.id, { ...u });
    for (const u of m.changed ?? []) {
      const held = cache.get(u.configurationId.id)!;
      for (const [k, v] of Object.entries(u))
        if (v === null) delete held[k];
        else held[k] = v;
    }
    for (const id of m.removed ?? []) cache.delete(id);
  }
  return cache;
}

const project = (u: User) => Object.fromEntries(Object.entries(u).filter(([k]) => k === 'configurationId' || PROPERTIES.includes(k)));

describe('simulator: deltas replay to the truth', () => {
  it('a client folding the full replace and every delta holds exactly the subscribed view of the users', async function () {
    this.timeout(60000);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1000 }), fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 4 }), async (seed, bursts) => {
        const sim = await startSimulator({ users: 40, seed });
        try {
          const s = await connect(sim.url);
          await subscribe(s, 'dir', { configurationIds: ['*'], properties: PROPERTIES });
          const cache = fold(await poll(s));
          for (const n of bursts) {
            sim.control.churn(n);
            fold(await poll(s), cache);
          }
          const truth = new Map(sim.control.users().map((u) => [u.configurationId.id, project(u)]));
          expect(Object.fromEntries(cache)).to.deep.equal(Object.fromEntries(truth));
        } finally {
          await sim.close();
        }
      }),
      { numRuns: 15 },
    );
  });
});
