import { expect } from 'chai';
import { registerSecret } from '../../src/log/redact.js';
import { parseMessage, SAMPLE_CHARS, shortTypeName } from '../../src/icws/parse.js';
import { USERS_MESSAGE } from '../../src/icws/messages.js';

describe('ICWS message parsing', () => {
  it('types a usersMessage from JSON text and from an object', () => {
    const msg = { __type: USERS_MESSAGE, isDelta: true, subscriptionId: 's', changed: [{ configurationId: { id: 'jdoe' }, extension: null }], removed: ['x'] };
    for (const raw of [JSON.stringify(msg), msg]) {
      const out = parseMessage(raw);
      expect(out.kind).to.equal('message');
      if (out.kind === 'message') expect(out.message).to.deep.equal(msg);
    }
  });

  it('reports malformed JSON and wrong usersMessage shapes as malformed that may carry changes', () => {
    const cases: [unknown, RegExp][] = [
      ['{"__type": ', /not JSON/],
      [{ __type: USERS_MESSAGE, isDelta: 'yes' }, /isDelta/],
      [{ __type: USERS_MESSAGE, isDelta: true, added: {} }, /added is not a list/],
      [{ __type: USERS_MESSAGE, isDelta: true, changed: [{ configurationId: { id: 7 } }] }, /changed\[0\]/],
      [{ __type: USERS_MESSAGE, isDelta: false, removed: [1] }, /removed\[0\]/],
      [[1, 2], /not a JSON object/],
    ];
    for (const [raw, reason] of cases) {
      const out = parseMessage(raw);
      expect(out.kind, JSON.stringify(raw)).to.equal('malformed');
      if (out.kind === 'malformed') {
        expect(out.reason).to.match(reason);
        expect(out.mayCarryChanges).to.equal(true);
      }
    }
  });

  it('reports an unknown __type as unknown (ignored, no resync) and a broken state message as malformed without resync', () => {
    expect(parseMessage({ __type: 'urn:inin.com:queues:queueContentsMessage' })).to.include({
      kind: 'unknown',
      type: 'urn:inin.com:queues:queueContentsMessage',
    });
    const out = parseMessage({ __type: 'urn:inin.com:connection:connectionStateChangeMessage', newConnectionState: 'down' });
    expect(out).to.include({ kind: 'malformed', mayCarryChanges: false });
  });

  it('keeps samples short and free of secrets', () => {
    registerSecret('s3cret-csrf-token');
    const out = parseMessage(`{"token":"s3cret-csrf-token", "pad":"${'x'.repeat(1000)}"`);
    expect(out.kind).to.equal('malformed');
    if (out.kind === 'malformed') {
      expect(out.sample.length).to.be.at.most(SAMPLE_CHARS);
      expect(out.sample).to.not.include('s3cret-csrf-token');
    }
  });

  it('names types by their short name', () => {
    expect(shortTypeName(USERS_MESSAGE)).to.equal('usersMessage');
  });
});

describe('parseMessage: property types', () => {
  it('rejects a usersMessage whose extension is a number, naming the user, the property and the expected type', () => {
    const outcome = parseMessage(
      JSON.stringify({
        __type: 'urn:inin.com:configuration.people:usersMessage',
        isDelta: true,
        changed: [{ configurationId: { id: 'jdoe' }, extension: 2222 }],
      }),
    );
    expect(outcome.kind).to.equal('malformed');
    expect(outcome.kind === 'malformed' && outcome.reason).to.match(/changed\[0\] \(jdoe\): extension is a number .*expected a string/);
    expect(outcome.kind === 'malformed' && outcome.mayCarryChanges).to.equal(true);
  });

  it('accepts null for any property (a cleared one) and leaves unlisted properties as they come', () => {
    const outcome = parseMessage({
      __type: 'urn:inin.com:configuration.people:usersMessage',
      isDelta: true,
      changed: [{ configurationId: { id: 'jdoe' }, extension: null, someFutureProperty: 42 }],
    });
    expect(outcome.kind).to.equal('message');
  });
});
