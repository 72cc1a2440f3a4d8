import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LICENSE_ERROR_TYPES, MAILBOX_TYPES, VALIDATION_ERROR_TYPES } from '../../src/mailboxes/enums.js';
import { MailboxInputError, readBulkUpdateFile, validateBulkUpdate } from '../../src/mailboxes/input.js';

/** The problems validation reports for `input`, as "where: problem" lines. */
function problems(input: unknown): string[] {
  try {
    validateBulkUpdate(input);
  } catch (err) {
    if (err instanceof MailboxInputError) return err.problems.map((p) => `${p.where}: ${p.problem}`);
    throw err;
  }
  return [];
}

const mailbox = { emailAddress: 'support@example.com', mailboxMoniker: 'support' };

describe('mailboxes: enum tables', () => {
  it('lists validationErrorType 0–46 without 8, with the feature versions the page gives', () => {
    const values = VALIDATION_ERROR_TYPES.map((e) => e.value);
    expect(values).to.deep.equal([...Array(47).keys()].filter((v) => v !== 8));
    expect(VALIDATION_ERROR_TYPES.find((e) => e.value === 31)).to.include({ name: 'propertyNotApplicable' });
    expect(VALIDATION_ERROR_TYPES.find((e) => e.value === 37)?.featureVersion).to.equal(8);
    expect(VALIDATION_ERROR_TYPES.find((e) => e.value === 46)?.featureVersion).to.equal(10);
    expect(VALIDATION_ERROR_TYPES.find((e) => e.value === 36)?.featureVersion).to.equal(undefined);
  });

  it('lists the license results and mailbox types', () => {
    expect(LICENSE_ERROR_TYPES.map((e) => e.name)).to.deep.equal([
      'setOK',
      'setWarningExceedsThreshold',
      'setErrorExceedsThreshold',
      'setWarningMissingQualifiers',
    ]);
    expect(MAILBOX_TYPES.map((e) => [e.name, e.value])).to.deep.equal([
      ['inbound', 0],
      ['outbound', 1],
      ['outboundAndInbound', 2],
    ]);
  });
});

describe('mailboxes: input validation', () => {
  it('builds the request body: type names become numbers, string ids become configurationId objects', () => {
    const body = validateBulkUpdate({
      add: [{ ...mailbox, mailboxType: 'outboundAndInbound', inboundFolder: 'Inbox' }],
      modify: [
        { configurationId: 'mbx-1', mailboxType: 1, canReceiveEncryptedEmail: true },
        { configurationId: { id: 'mbx-2', displayName: 'Two' }, inboundFolder: null },
      ],
      remove: ['mbx-3'],
    });
    expect(body).to.deep.equal({
      add: [{ emailAddress: 'support@example.com', inboundFolder: 'Inbox', mailboxMoniker: 'support', mailboxType: 2 }],
      modify: [
        { configurationId: { id: 'mbx-1' }, canReceiveEncryptedEmail: true, mailboxType: 1 },
        { configurationId: { id: 'mbx-2', displayName: 'Two' }, inboundFolder: null },
      ],
      remove: ['mbx-3'],
    });
  });

  it('accepts its own dry-run output back as input, and older output that carried __type', () => {
    const body = validateBulkUpdate({ add: [mailbox] });
    expect(body).to.deep.equal({ add: [{ emailAddress: 'support@example.com', mailboxMoniker: 'support' }] });
    expect(validateBulkUpdate(JSON.parse(JSON.stringify(body)))).to.deep.equal(body);
    expect(validateBulkUpdate({ __type: 'urn:inin.com:configuration.people:monitoredMailboxesBulkUpdate', ...body })).to.deep.equal(body);
  });

  it('requires emailAddress and mailboxMoniker on add, naming the entry', () => {
    expect(problems({ add: [mailbox, { mailboxType: 0 }] })).to.deep.equal([
      'add[1].emailAddress: required on add; expected an email address such as support@example.com',
      "add[1].mailboxMoniker: required on add; expected the mailbox's moniker (a non-empty string)",
    ]);
  });

  it('rejects an unknown mailboxType, by name or number', () => {
    expect(
      problems({
        add: [
          { ...mailbox, mailboxType: 'sideways' },
          { ...mailbox, mailboxType: 3 },
        ],
      }),
    ).to.deep.equal([
      'add[0].mailboxType: got "sideways"; expected one of inbound (0), outbound (1), outboundAndInbound (2)',
      'add[1].mailboxType: got 3; expected one of inbound (0), outbound (1), outboundAndInbound (2)',
    ]);
  });

  it('allows inboundFolder only on inbound types', () => {
    expect(
      problems({
        add: [
          { ...mailbox, mailboxType: 'inbound', inboundFolder: 'Inbox' },
          { ...mailbox, mailboxType: 2, inboundFolder: 'Inbox' },
          { ...mailbox, mailboxType: 1, inboundFolder: null },
        ],
      }),
    ).to.deep.equal([]);
    const [line] = problems({ modify: [{ configurationId: 'mbx-1', mailboxType: 'outbound', inboundFolder: 'Inbox' }] });
    expect(line).to.match(/^modify\[0\]\.inboundFolder: only for inbound mailbox types .*outbound \(1\)/);
  });

  it('requires configurationId.id on modify', () => {
    expect(problems({ modify: [{ mailboxType: 1 }, { configurationId: { displayName: 'x' } }, { configurationId: '' }] })).to.deep.equal([
      'modify[0].configurationId: required on modify: the id of the monitored mailbox to change (a string, or {id: …})',
      'modify[1].configurationId.id: missing; expected the mailbox id (a non-empty string)',
      'modify[2].configurationId: got an empty string; expected the mailbox id (a non-empty string, or {id: …})',
    ]);
  });

  it('requires remove to be a list of non-empty strings', () => {
    expect(problems({ remove: 'mbx-1' })).to.deep.equal(['remove: got the string "mbx-1"; expected a list of mailbox ids (strings)']);
    expect(problems({ remove: ['ok', 7, ''] })).to.deep.equal([
      'remove[1]: got 7 (a number: quote it, e.g. "123"); expected a mailbox id (a non-empty string)',
      'remove[2]: got ""; expected a mailbox id (a non-empty string)',
    ]);
  });

  it('names unknown keys at every level', () => {
    expect(problems({ add: [{ ...mailbox, colour: 'red', configurationId: { id: 'a', owner: 'b' } }], delete: ['x'] })).to.deep.equal([
      'delete: unknown key; expected add, modify or remove',
      'add[0].colour: unknown property; expected one of configurationId, canReceiveEncryptedEmail, emailAddress, inboundFolder, mailboxMoniker, mailboxType',
      'add[0].configurationId.owner: unknown property; expected one of id, displayName, uri',
    ]);
  });

  it('refuses an id changed twice in one request', () => {
    expect(problems({ modify: [{ configurationId: 'mbx-1', mailboxType: 0 }], remove: ['mbx-1'] })).to.deep.equal([
      'remove[0]: the id "mbx-1" is already changed at modify[0].configurationId; expected each id at most once across modify and remove',
    ]);
  });

  it('refuses an empty file, a non-mapping and nothing to do', () => {
    expect(problems(null)[0]).to.match(/^\(file\): the file is empty/);
    expect(problems([mailbox])[0]).to.match(/^\(top level\): got a list; expected \{add/);
    expect(problems({ add: [], remove: null })).to.deep.equal(['(top level): nothing to do: add, modify and remove are all missing or empty']);
  });
});

describe('mailboxes: input file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'icwatch-mailboxes-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const read = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return readBulkUpdateFile(join(dir, name));
  };
  const readError = (name: string, text: string): string => {
    try {
      read(name, text);
    } catch (err) {
      if (err instanceof MailboxInputError) return err.message;
      throw err;
    }
    throw new Error('expected a MailboxInputError');
  };

  it('reads YAML and JSON by extension, and by content otherwise', () => {
    const expected = validateBulkUpdate({ remove: ['a'] });
    expect(read('in.yaml', 'remove: [a]\n')).to.deep.equal(expected);
    expect(read('in.json', '{"remove": ["a"]}')).to.deep.equal(expected);
    expect(read('in.txt', '  {"remove": ["a"]}')).to.deep.equal(expected);
    expect(read('in', 'remove:\n  - a\n')).to.deep.equal(expected);
  });

  it('says which syntax failed to parse', () => {
    expect(readError('bad.json', '{"remove": [')).to.match(/\(file\): not valid JSON/);
    expect(readError('bad.yaml', 'remove: [a\n')).to.match(/\(file\): not valid YAML/);
    expect(readError('missing.yaml', '')).to.match(/\(file\): the file is empty/);
  });

  it('names a missing file', () => {
    expect(() => readBulkUpdateFile(join(dir, 'nope.yaml'))).to.throw(MailboxInputError, /nope\.yaml: \(file\): no such file/);
  });
});
