import { expect } from 'chai';
import { MAILBOX_MONIKERS, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { call, connect, type RawSession } from './raw-client.js';

const TYPE = 'urn:inin.com:configuration.people:monitoredMailboxesBulkUpdate';

describe('simulator: monitored-mailboxes bulk update', () => {
  let sim: Simulator;
  let s: RawSession;
  beforeEach(async () => {
    sim = await startSimulator({ users: 5 });
    s = await connect(sim.url);
  });
  afterEach(() => sim.close());

  const update = (body: unknown, workgroup = 'Support', session = s) =>
    call(session, 'POST', `/configuration/workgroups/${workgroup}/monitored-mailboxes`, body);
  const ids = () =>
    sim.control
      .mailboxes('Support')!
      .map((m) => m.configurationId.id)
      .sort();

  it('starts with known mailboxes whose monikers and folders are exported', () => {
    const support = sim.control.mailboxes('Support')!;
    expect(support.length).to.be.within(2, 5);
    for (const m of support) {
      expect(MAILBOX_MONIKERS[m.mailboxMoniker]).to.be.an('array');
      if (m.inboundFolder) expect(MAILBOX_MONIKERS[m.mailboxMoniker]).to.include(m.inboundFolder);
    }
    expect(sim.control.mailboxes('NoSuchGroup')).to.equal(undefined);
  });

  it('adds, modifies and removes, answering 200 with every added and modified id', async () => {
    const before = ids();
    const res = await update({
      __type: TYPE,
      add: [{ emailAddress: 'Orders@example.com', mailboxMoniker: 'ews:orders@example.com', mailboxType: 0, inboundFolder: 'Inbox/New' }],
      modify: [{ configurationId: { id: 'support-out@example.com' }, canReceiveEncryptedEmail: true }],
      remove: ['support-shared@example.com'],
    });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { subObjects: { id: string; uri: string; licenseProblems?: unknown }[] };
    expect(body.subObjects.map((o) => o.id).sort()).to.deep.equal(['orders@example.com', 'support-out@example.com']);
    expect(body.subObjects.every((o) => typeof o.uri === 'string' && !o.licenseProblems)).to.equal(true);
    expect(ids()).to.deep.equal([...before.filter((id) => id !== 'support-shared@example.com'), 'orders@example.com'].sort());
    const added = sim.control.mailboxes('Support')!.find((m) => m.configurationId.id === 'orders@example.com')!;
    expect(added).to.include({ emailAddress: 'Orders@example.com', mailboxType: 0, inboundFolder: 'Inbox/New', canReceiveEncryptedEmail: false });
  });

  it('warns of the license once the workgroup monitors more than 5 mailboxes', async () => {
    const add = ['a', 'b', 'c'].map((n) => ({ emailAddress: `${n}@example.com`, mailboxMoniker: 'ews:info@example.com', mailboxType: 1 }));
    const res = await update({ add });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { subObjects: { licenseProblems?: unknown }[] };
    expect(sim.control.mailboxes('Support')!.length).to.be.greaterThan(5);
    // The license is a ConfigurationId, as servers name licenses.
    const license = { id: 'I3_ACCESS_ACD_EMAIL', displayName: 'Interaction ACD Email', uri: '/configuration/license-allocations/I3_ACCESS_ACD_EMAIL' };
    for (const o of body.subObjects) expect(o.licenseProblems).to.deep.equal([{ license, licenseErrorType: 1 }]);
  });

  it('refuses an update past the license limit with a setErrorExceedsThreshold license error, applying nothing', async () => {
    const before = sim.control.mailboxes('Support');
    const add = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => ({ emailAddress: `${n}@example.com`, mailboxMoniker: 'ews:info@example.com', mailboxType: 1 }));
    const res = await update({ add });
    expect(res.status).to.equal(400);
    const body = (await res.json()) as { validationErrors: unknown[]; licenseErrors: unknown[] };
    expect(body.validationErrors).to.deep.equal([]);
    expect(body.licenseErrors).to.deep.equal([
      {
        licenseErrorType: 2,
        license: { id: 'I3_ACCESS_ACD_EMAIL', displayName: 'Interaction ACD Email', uri: '/configuration/license-allocations/I3_ACCESS_ACD_EMAIL' },
      },
    ]);
    expect(sim.control.mailboxes('Support')).to.deep.equal(before);
  });

  it('reports every validation error of the request and applies nothing', async () => {
    const before = sim.control.mailboxes('Support');
    const res = await update({
      add: [
        { mailboxType: 0 },
        { emailAddress: 'x@example.com', mailboxMoniker: 'ews:info@example.com', mailboxType: 1, inboundFolder: 'Inbox' },
        { emailAddress: 'y@example.com', mailboxMoniker: 'ews:info@example.com', mailboxType: 0, inboundFolder: 'Nowhere' },
        { emailAddress: 'z@example.com', mailboxMoniker: 'ews:info@example.com', mailboxType: 7 },
        { emailAddress: 'fine@example.com', mailboxMoniker: 'ews:info@example.com' },
      ],
      modify: [{ configurationId: { id: 'ghost@example.com' }, canReceiveEncryptedEmail: true }],
      remove: ['phantom@example.com'],
    });
    expect(res.status).to.equal(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).to.include({ __type: 'urn:inin.com:configuration:configurationError', errorId: 'error.request.configuration.update' });
    expect(body.message).to.be.a('string');
    expect(body.licenseErrors).to.deep.equal([]);
    expect(body.validationErrors).to.have.deep.members([
      { validationErrorType: 4, propertyName: 'emailAddress', propertyValue: '' },
      { validationErrorType: 4, propertyName: 'mailboxMoniker', propertyValue: '' },
      { validationErrorType: 31, propertyName: 'inboundFolder', propertyValue: 'Inbox' },
      { validationErrorType: 32, propertyName: 'inboundFolder', propertyValue: 'Nowhere' },
      { validationErrorType: 9, propertyName: 'mailboxType', propertyValue: '7' },
      { validationErrorType: 2, propertyName: 'configurationId', propertyValue: 'ghost@example.com' },
      { validationErrorType: 2, propertyName: 'remove', propertyValue: 'phantom@example.com' },
    ]);
    expect(sim.control.mailboxes('Support')).to.deep.equal(before);
  });

  it('checks the folder against the new moniker when a modify changes it', async () => {
    const res = await update({ modify: [{ configurationId: { id: 'support@example.com' }, mailboxMoniker: 'imap:helpdesk@example.com' }] });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { validationErrors: unknown[] }).validationErrors).to.deep.equal([
      { validationErrorType: 32, propertyName: 'inboundFolder', propertyValue: 'Inbox' },
    ]);
  });

  it('answers 400 malformed for a wrong __type or a body that is not JSON', async () => {
    const wrongType = await update({ __type: 'urn:inin.com:other', add: [] });
    expect(wrongType.status).to.equal(400);
    expect(await wrongType.json()).to.deep.include({ errorId: 'error.request.invalidRepresentation.malformed' });
    const notJson = await fetch(`${s.base}/${s.sessionId}/configuration/workgroups/Support/monitored-mailboxes`, {
      method: 'POST',
      headers: s.headers,
      body: '{"add": [',
    });
    expect(notJson.status).to.equal(400);
    expect(await notJson.json()).to.deep.include({ errorId: 'error.request.invalidRepresentation.malformed' });
  });

  it('answers 403 to the read-only account and 404 for an unknown workgroup, naming it', async () => {
    const viewer = await connect(sim.url, { userID: 'viewer', password: 'viewer' });
    const denied = await update({ remove: ['support@example.com'] }, 'Support', viewer);
    expect(denied.status).to.equal(403);
    expect(((await denied.json()) as { message: string }).message).to.be.a('string');
    expect(ids()).to.include('support@example.com');
    const missing = await update({ add: [] }, 'NoSuchGroup');
    expect(missing.status).to.equal(404);
    expect(((await missing.json()) as { message: string }).message).to.include('NoSuchGroup');
  });
});
