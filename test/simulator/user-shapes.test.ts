/**
 * The simulator's users carry the shapes real servers send (fixtures/captured-user-shapes.json, written from
 * public captures), so that what is built against the demo holds on real data; and icwatch's own parser takes
 * those shapes while it refuses the tidy shapes the simulator used to invent.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseMessage } from '../../src/icws/parse.js';
import { generateUsers, startSimulator } from '../../src/simulator/index.js';
import { connect, poll, subscribe } from './raw-client.js';

const CAPTURED = JSON.parse(readFileSync(new URL('./fixtures/captured-user-shapes.json', import.meta.url), 'utf8')) as Record<string, unknown>;
delete CAPTURED._about;

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Where `actual` departs from the captured shape `shape` (same JSON types, no key the capture lacks), or ''. */
function departure(actual: unknown, shape: unknown, path: string): string {
  if (kind(actual) !== kind(shape)) return `${path} is ${kind(actual)} (${JSON.stringify(actual)?.slice(0, 60)}), real servers send ${kind(shape)}`;
  if (Array.isArray(actual)) {
    const [item] = shape as unknown[];
    if (item === undefined) return '';
    for (let i = 0; i < actual.length; i++) {
      const d = departure(actual[i], item, `${path}[${i}]`);
      if (d) return d;
    }
    return '';
  }
  if (actual && typeof actual === 'object') {
    const s = shape as Record<string, unknown>;
    for (const [k, v] of Object.entries(actual)) {
      const expected = Object.hasOwn(s, k) ? s[k] : s['*'];
      if (expected === undefined) return `${path}.${k} is not in the captured shape`;
      const d = departure(v, expected, `${path}.${k}`);
      if (d) return d;
    }
  }
  return '';
}

const isConfigurationId = (v: unknown) => typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string';

describe('simulator: users in the shapes real servers send', () => {
  it('every generated property has the captured shape: roles inheritable, auto-answer flags booleans, preferredLanguage an object', () => {
    const users = generateUsers(400, 5);
    for (const u of users) {
      const d = departure(u, CAPTURED, u.configurationId.id);
      expect(d, d).to.equal('');
      const roles = u.roles as { actualValue?: unknown[]; effectiveValue: unknown[] };
      expect(roles.effectiveValue.every(isConfigurationId), 'roles.effectiveValue is a list of ConfigurationIds').to.equal(true);
      expect(u.autoAnswerAcdInteractions).to.be.a('boolean');
      expect(u.autoAnswerNonAcdInteractions).to.be.a('boolean');
      expect(isConfigurationId(u.preferredLanguage), 'preferredLanguage is {id, displayName}').to.equal(true);
    }
    // Both forms of the inheritable roles occur: inherited (effectiveValue only, as captured) and the user's own.
    expect(users.some((u) => !('actualValue' in (u.roles as object)))).to.equal(true);
    expect(users.some((u) => 'actualValue' in (u.roles as object))).to.equal(true);
  });

  it('serves no property newer than its configuration feature version', () => {
    const old = generateUsers(60, 5, { configurationVersion: 13 });
    expect(old.some((u) => 'emergencyResponderLocationID' in u)).to.equal(false);
    expect(old.some((u) => 'acdSocialMedia' in (u.licenseProperties as object))).to.equal(false);
    const current = generateUsers(60, 5, { configurationVersion: 16 });
    expect(current.some((u) => 'emergencyResponderLocationID' in u)).to.equal(true);
    expect(current.every((u) => 'acdSocialMedia' in (u.licenseProperties as object))).to.equal(true);
  });

  it('sends them so on the wire, and icwatch parses them; the old invented shapes are refused as malformed', async () => {
    const sim = await startSimulator({ users: 30 });
    try {
      const s = await connect(sim.url);
      await subscribe(s, 'shapes', {
        configurationIds: ['*'],
        properties: ['roles', 'autoAnswerAcdInteractions', 'preferredLanguage', 'licenseProperties', 'utilizations'],
      });
      const [full] = await poll(s);
      for (const u of full.added as Record<string, unknown>[]) expect(departure(u, CAPTURED, String((u.configurationId as { id: string }).id))).to.equal('');
      expect(parseMessage(full).kind).to.equal('message');
    } finally {
      await sim.close();
    }
    const captured = { __type: 'urn:inin.com:configuration.people:usersMessage', isDelta: false, added: [CAPTURED] };
    expect(parseMessage(captured).kind).to.equal('message');
    for (const [property, invented] of [
      ['roles', [{ id: 'Agent' }]],
      ['autoAnswerAcdInteractions', { actualValue: false, effectiveValue: true }],
      ['preferredLanguage', 'en-US'],
    ] as const) {
      const outcome = parseMessage({ ...captured, added: [{ ...CAPTURED, [property]: invented }] });
      expect(outcome.kind, property).to.equal('malformed');
      expect(outcome.kind === 'malformed' && outcome.reason).to.include(property);
    }
  });
});
