/** ICWS users into the mirror's input: each property stored as JSON.stringify gives it, whatever text it came as. */
import { expect } from 'chai';
import { checkUser } from '../../src/icws/check-user.js';
import { KnownText, readAddedUser } from '../../src/icws/read-users.js';
import { usersInputOf } from '../../src/icws/mirror-input.js';
import { USERS_MESSAGE } from '../../src/icws/messages.js';
import { silentLogger } from '../../src/log/logger.js';
import type { CheckedUser } from '../../src/mirror/input.js';
import { userSlices } from '../../src/icws/user-slices.js';
import { generateUsers } from '../../src/simulator/users.js';

describe('checkUser and readAddedUser: what the mirror stores of a user', () => {
  // Whitespace, escapes JSON.stringify writes otherwise, numbers in other forms, integer-like keys, a duplicate key.
  const text =
    '{ "configurationId" : {"id":"u\\u0031","displayName":"A \\/ B"}, "cost": 1.50, "homeSite": 1e2, "whisperToneLevel": -0,' +
    ' "skills": {"b": 1, "2": [ 3 , 4 ], "a": "\\u00e9"}, "statusText": "x", "statusText": "y", "notes": null }';

  it('stores every property as JSON.stringify of its parsed value, in the order JSON.parse gives, nulls dropped', () => {
    const read = readAddedUser(text, 0, 7);
    expect(read.problem).to.equal(undefined);
    const user = read.user as CheckedUser;
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const expected = Object.keys(parsed)
      .filter((k) => parsed[k] !== null)
      .map((k) => [k, JSON.stringify(parsed[k])]);
    expect(user).to.include({ kind: 'checked', id: 'u1', textDigest: 7 });
    expect([...user.props]).to.deep.equal(expected);
    expect(user.props.get('skills')).to.equal('{"2":[3,4],"b":1,"a":"é"}');
    expect(user.props.get('cost')).to.equal('1.5');
    expect(user.props.get('whisperToneLevel')).to.equal('0');
    expect(user.props.get('statusText')).to.equal('"y"');
  });

  it('a known text read after all gives the same user as a new one', () => {
    const known = new KnownText('u1', 7, text).read();
    expect(known).to.deep.equal(readAddedUser(text, 0, 7).user);
  });

  it('keeps nulls only where they say a property was cleared (a delta changed), and reads lastModifiedDate for deltas', () => {
    const user = { configurationId: { id: 'a' }, notes: null, lastModifiedDate: '20171118T063908Z' };
    expect([...(checkUser(user, { keepNulls: true }) as CheckedUser).props.keys()]).to.deep.equal(['configurationId', 'notes', 'lastModifiedDate']);
    expect([...(checkUser(user, { keepNulls: false }) as CheckedUser).props.keys()]).to.deep.equal(['configurationId', 'lastModifiedDate']);
    expect(checkUser(user, { keepNulls: true, modifiedAt: true })).to.include({ modifiedAt: Date.UTC(2017, 10, 18, 6, 39, 8) });
    expect(checkUser(user, { keepNulls: true })).to.include({ modifiedAt: undefined });
  });

  it('reads ICWS dates in the compact form (with a fraction of 1 to 9 digits) and the extended one, and nothing else', () => {
    const at = (lastModifiedDate: unknown) =>
      (checkUser({ configurationId: { id: 'a' }, lastModifiedDate }, { keepNulls: false, modifiedAt: true }) as CheckedUser).modifiedAt;
    expect(at('20171118T063908.5Z')).to.equal(Date.UTC(2017, 10, 18, 6, 39, 8, 500));
    expect(at('20171118T063908,123456789Z')).to.equal(Date.UTC(2017, 10, 18, 6, 39, 8, 123));
    expect(at('2017-11-18T07:39:08+01:00')).to.equal(Date.UTC(2017, 10, 18, 6, 39, 8));
    for (const bad of [
      '20171118T06390Z',
      '2017111xT063908Z',
      '20171118 063908Z',
      '20171118T063908.Z',
      '20171118T063908.1234567890Z',
      '20171118T063908;5Z',
      ' 20171118T063908Z',
      '20171118T063908Zx',
      20171118,
      '',
    ])
      expect(at(bad), String(bad)).to.equal(undefined);
  });

  it("a usersMessage becomes the mirror's input: a full replace its users, a delta checked users and good removed ids", () => {
    const logger = silentLogger();
    const replace = usersInputOf({ __type: USERS_MESSAGE, isDelta: false, added: [{ configurationId: { id: 'a' }, extension: '1' }] }, logger);
    expect(replace.kind).to.equal('replace');
    const delta = usersInputOf(
      { __type: USERS_MESSAGE, isDelta: true, changed: [{ configurationId: { id: 'a' }, extension: null }], removed: ['b', ''] as string[] },
      logger,
    );
    if (delta.kind !== 'delta') throw new Error(`expected a delta, got ${delta.kind}`);
    expect(delta.size).to.equal(3);
    expect(delta.read().removed).to.deep.equal(['b']);
    expect(delta.read()).to.deep.equal(delta.read());
    expect([...delta.read().changed[0]!.props]).to.deep.equal([
      ['configurationId', '{"id":"a"}'],
      ['extension', null],
    ]);
  });

  it('takes a text as JSON.stringify writes it as slices, byte for byte what encoding its parsed value stores', () => {
    const generated = generateUsers(500, 7).map((u) => JSON.stringify(u));
    const crafted = [
      { s: 'tab\there "quoted" back\\slash \b\f\r\n', e: 'é – ü', empty: '', obj: {}, arr: [], deep: [[{ a: [{ b: null }] }]] },
      { n: [0, -5, 100, 1.5, 0.1, 1e21, 1e-7, -0, 123456789012345, 2 ** 53 + 2], t: true, f: false, gone: null },
      { __proto__x: 1, 'we"ird': { 'k\\ey': 1 }, ü: 'ü' },
      { emoji: '😀' },
      { nested: { '2': 'index', b: 1 } },
    ].map((props, i) => JSON.stringify({ configurationId: { id: `c${i}`, displayName: null }, ...props }));
    // A key twice in a nested object, and spaces: JSON.stringify writes neither.
    crafted.push('{"configurationId":{"id":"d1"},"x":{"a":1,"a":2}}', '{"configurationId":{"id":"d2"},"x":{"a": 1}}');
    let sliced = 0;
    for (const text of [...generated, ...crafted]) {
      const read = readAddedUser(text, 0, 1).user as CheckedUser;
      const encoded = checkUser(JSON.parse(text), { keepNulls: false, textDigest: 1 }) as CheckedUser;
      expect([...read.props], text).to.deep.equal([...encoded.props]);
      if (userSlices(text)) sliced++;
    }
    // The generated users and the first three crafted ones are as JSON.stringify writes them; the rest are encoded.
    expect(sliced).to.equal(generated.length + 3);
  });
});
