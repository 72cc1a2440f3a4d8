/**
 * Random sequences of full replaces and deltas (adds, changes, null-clears, removes, repeats, moved extensions,
 * daemon restarts) against a reference model written here, independently of the mirror's code.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import type { ReceivedUsersMessage, User } from '../../src/icws/messages.js';
import type { ChangeEntry } from '../../src/mirror/change.js';
import { delta, expectGapFree, readMirrorView, replace, startMirror, type Harness } from './fixtures.js';

type Props = Record<string, unknown>;
type Step = { kind: 'message'; message: ReceivedUsersMessage } | { kind: 'repeat' } | { kind: 'restart' };

const IDS = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay'];
const cid = (id: string) => ({ id, displayName: id.toUpperCase(), uri: `/configuration/users/${id}` });

// Few distinct values so that equal values (no change) and moved extensions happen often.
const propValue: Record<string, fc.Arbitrary<unknown>> = {
  extension: fc.constantFrom('100', '101', '102', '103'),
  statusText: fc.constantFrom('Available', 'Away', 'At lunch / back soon', 'Déjà vu "quoted"'),
  skills: fc.record({
    effectiveValue: fc.array(fc.record({ id: fc.constantFrom(cid('English'), cid('Chat')), proficiency: fc.integer({ min: 0, max: 2 }) }), { maxLength: 2 }),
  }),
  cost: fc.constantFrom(0, 1.5, 100000000000000000000, -3),
  workgroups: fc.array(fc.constantFrom(cid('Support'), cid('Sales')), { maxLength: 2 }),
  mwiEnabled: fc.boolean(),
};
const PROPS = Object.keys(propValue);

const fullUser = (id: string) => fc.record(propValue, { requiredKeys: [] }).map((p): User => ({ configurationId: cid(id), ...p }));
const patchUser = (id: string) =>
  fc
    .record(Object.fromEntries(PROPS.map((p) => [p, fc.option(propValue[p]!, { nil: null, freq: 3 })])), { requiredKeys: [] })
    .map((p): User => ({ configurationId: cid(id), ...p }));
const someIds = fc.uniqueArray(fc.constantFrom(...IDS), { maxLength: 4 });

const fullReplace = someIds.chain((ids) => fc.tuple(...ids.map(fullUser))).map((users) => replace(users));
const deltaMessage = fc
  .record({
    added: someIds.chain((ids) => fc.tuple(...ids.map(fullUser))),
    changed: someIds.chain((ids) => fc.tuple(...ids.map(patchUser))),
    removed: fc.uniqueArray(fc.constantFrom(...IDS), { maxLength: 2 }),
  })
  .map((d) => delta(d));
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fullReplace.map((message) => ({ kind: 'message' as const, message })) },
  { weight: 6, arbitrary: deltaMessage.map((message) => ({ kind: 'message' as const, message })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'repeat' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

/** The reference model: what the README "The Redis mirror" says the mirror holds after each message. */
function applyToModel(model: Map<string, Props>, message: ReceivedUsersMessage['message']): void {
  const strip = (u: User) => Object.fromEntries(Object.entries(u).filter(([, v]) => v !== null));
  if (!message.isDelta) {
    model.clear();
    for (const u of message.added ?? []) model.set(u.configurationId.id, strip(u));
    return;
  }
  for (const u of message.added ?? []) model.set(u.configurationId.id, strip(u));
  for (const u of message.changed ?? []) {
    const current = model.get(u.configurationId.id) ?? {};
    for (const [k, v] of Object.entries(u)) {
      if (v === null) delete current[k];
      else current[k] = v;
    }
    model.set(u.configurationId.id, current);
  }
  for (const id of message.removed ?? []) model.delete(id);
}

/** Replays the stream from empty, checking that every entry changes something. */
function replayStrict(changes: ChangeEntry[]): Map<string, Record<string, string>> {
  const users = new Map<string, Record<string, string>>();
  for (const c of changes) {
    if (c.op === 'remove') {
      expect(users.has(c.id), `remove of absent ${c.id} at seq ${c.seq}`).to.equal(true);
      users.delete(c.id);
      continue;
    }
    const u = users.get(c.id) ?? {};
    expect(Object.keys(c.data), `empty upsert at seq ${c.seq}`).to.not.be.empty;
    for (const [k, v] of Object.entries(c.data)) {
      const json = v === null ? undefined : JSON.stringify(v);
      expect(u[k], `seq ${c.seq} ${c.id}.${k} is no change`).to.not.equal(json);
      if (json === undefined) delete u[k];
      else u[k] = json;
    }
    users.set(c.id, u);
  }
  return users;
}

describe('mirror: random message sequences against a reference model', function () {
  this.timeout(120000);
  let redis: Redis;
  before(() => void (redis = new Redis(SHARED_REDIS_URL)));
  after(() => redis.quit());

  it('leaves Redis equal to the model; the stream replays to the same state; seq has no gaps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 14 }),
        fc.record({
          replaceBatchSize: fc.constantFrom(1, 2, 500),
          maxInFlightChunks: fc.constantFrom(1, 3),
          maxBatchMessages: fc.constantFrom(1, 4, 256),
          oneByOne: fc.boolean(),
        }),
        async (steps, knobs) => {
          const prefix = uniquePrefix('prop');
          const model = new Map<string, Props>();
          const { oneByOne, ...over } = knobs;
          let h: Harness = await startMirror(redis, prefix, over);
          let last: ReceivedUsersMessage | undefined;
          try {
            for (const s of steps) {
              if (s.kind === 'restart') {
                await h.apply();
                await h.mirror.drain(2000);
                h = await startMirror(redis, prefix, over);
                continue;
              }
              const message = s.kind === 'repeat' ? last : s.message;
              if (!message) continue;
              last = message;
              applyToModel(model, message.message);
              // Either wait for each message, or let them pile up and be coalesced.
              if (oneByOne) await h.apply(message);
              else h.source.next(message);
            }
            await h.apply();
            const v = await readMirrorView(redis, prefix);
            expect(v.ids).to.deep.equal([...model.keys()].sort());
            for (const [id, props] of model) {
              expect(v.raw[id], id).to.deep.equal(Object.fromEntries(Object.entries(props).map(([k, x]) => [k, JSON.stringify(x)])));
            }
            // Index: exactly the extensions held, each pointing at a user that holds it.
            const held = new Map<string, Set<string>>();
            for (const [id, p] of model) if (typeof p.extension === 'string') held.set(p.extension, (held.get(p.extension) ?? new Set()).add(id));
            expect(Object.keys(v.index).sort()).to.deep.equal([...held.keys()].sort());
            for (const [value, id] of Object.entries(v.index)) expect(held.get(value)!.has(id), `idx ${value} → ${id}`).to.equal(true);
            expectGapFree(v.changes);
            expect(v.changeIds).to.deep.equal(v.changes.map((c) => `${c.seq}-0`));
            expect(Object.fromEntries(replayStrict(v.changes))).to.deep.equal(v.raw);
            expect(v.meta).to.include({ seq: String(v.changes.length), users: String(model.size), syncing: '0' });
          } finally {
            await h.mirror.drain(2000);
            await dropPrefix(redis, prefix);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
