import { expect } from 'chai';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { call, connect, poll, subscribe, SUBSCRIPTION, type RawSession } from './raw-client.js';

describe('simulator: users subscription and polling', () => {
  let sim: Simulator;
  let s: RawSession;
  beforeEach(async () => {
    sim = await startSimulator({ users: 30 });
    s = await connect(sim.url);
  });
  afterEach(() => sim.close());

  const errorOf = async (res: Response) => ({ status: res.status, ...((await res.json()) as { errorId: string; message: string }) });

  it('refuses both wildcards, a missing field and an unknown user (404 naming it)', async () => {
    const both = await errorOf(await subscribe(s, 'a', { configurationIds: ['*'], properties: ['*'] }));
    expect(both.status).to.equal(400);
    expect(both.errorId).to.match(/^error\.request\.invalidRepresentation/);
    expect(both.message).to.include('wildcard');
    for (const field of ['configurationIds', 'properties', 'rightsFilter']) {
      const body: Record<string, unknown> = { configurationIds: ['*'], properties: ['extension'], rightsFilter: 'view' };
      delete body[field];
      const res = await call(s, 'PUT', `${SUBSCRIPTION}/a`, body);
      const e = await errorOf(res);
      expect(e.status, field).to.equal(400);
      expect(e.message).to.include(field);
    }
    const someone = sim.control.users()[0]!.configurationId.id;
    const missing = await errorOf(await subscribe(s, 'a', { configurationIds: [someone, 'nobody.here'], properties: ['extension'] }));
    expect(missing.status).to.equal(404);
    expect(missing.message).to.include('nobody.here');
    expect(sim.control.sessions()[0]!.subscriptions).to.deep.equal([]);
  });

  it('checks rightsFilter: view, admin, loggedInUser or a right name it knows; anything else is 400', async () => {
    for (const rightsFilter of ['view', 'admin', 'loggedInUser', 'canMonitorQueues']) {
      expect((await subscribe(s, 'r', { configurationIds: ['*'], properties: ['extension'], rightsFilter })).status, rightsFilter).to.equal(200);
    }
    for (const rightsFilter of ['view,admin', '*', 'all rights', 42, 'canRuleTheWorld']) {
      const e = await errorOf(await subscribe(s, 'r', { configurationIds: ['*'], properties: ['extension'], rightsFilter }));
      expect(e.status, String(rightsFilter)).to.equal(400);
      expect(e.message).to.include('rightsFilter');
    }
  });

  it('deletes a subscription with 204, then 404', async () => {
    expect((await subscribe(s, 'a', { configurationIds: ['*'], properties: ['extension'] })).status).to.equal(200);
    expect((await call(s, 'DELETE', `${SUBSCRIPTION}/a`)).status).to.equal(204);
    const again = await call(s, 'DELETE', `${SUBSCRIPTION}/a`);
    expect(again.status).to.equal(404);
  });

  it('sends first a full replace with only the subscribed properties, null ones left out', async () => {
    const [first] = sim.control.users();
    sim.control.setProperties(first!.configurationId.id, { statusText: null });
    expect((await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['extension', 'statusText'] })).status).to.equal(200);
    const messages = await poll(s);
    expect(messages).to.have.length(1);
    const m = messages[0];
    expect(m).to.include({ __type: 'urn:inin.com:configuration.people:usersMessage', isDelta: false, subscriptionId: 'dir' });
    expect(m.added).to.have.length(30);
    for (const u of m.added) {
      const truth = sim.control.user(u.configurationId.id)!;
      expect(u.configurationId).to.deep.equal(truth.configurationId);
      expect(Object.keys(u).every((k) => ['configurationId', 'extension', 'statusText'].includes(k))).to.equal(true);
      expect(u.extension).to.equal(truth.extension);
    }
    const cleared = m.added.find((u: { configurationId: { id: string } }) => u.configurationId.id === first!.configurationId.id);
    expect(cleared).not.to.have.property('statusText');
    expect(await poll(s)).to.deep.equal([]);
  });

  it('gives a `*` properties subscription every property of the listed users', async () => {
    const [a, b] = sim.control.users();
    await subscribe(s, 'two', { configurationIds: [a!.configurationId.id, b!.configurationId.id], properties: ['*'] });
    const [m] = await poll(s);
    expect(m.added).to.deep.equal([a, b]);
  });

  it('sends control mutations as deltas: changed with only the changed properties (null when cleared), added, removed', async () => {
    await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['extension', 'statusText', 'lastModifiedDate'] });
    await poll(s);
    const [a, b] = sim.control.users();
    const aid = a!.configurationId.id;
    sim.control.setProperties(aid, { statusText: 'Gone fishing', extension: null, cost: 5 });
    sim.control.addUser({ configurationId: { id: 'newbie', displayName: 'New Bie' }, extension: '7777', statusText: 'Available', notes: 'n' });
    sim.control.removeUser(b!.configurationId.id);
    const messages = await poll(s);
    expect(messages.map((m) => m.isDelta)).to.deep.equal([true, true, true]);
    const changed = messages[0].changed[0];
    expect(changed.configurationId.id).to.equal(aid);
    expect(changed).to.include({ statusText: 'Gone fishing', extension: null });
    expect(changed.lastModifiedDate).to.match(/^\d{8}T\d{6}Z$/);
    expect(changed).not.to.have.property('cost');
    const [added] = messages[1].added;
    expect(added).to.deep.include({
      configurationId: { id: 'newbie', displayName: 'New Bie', uri: '/configuration/users/newbie' },
      extension: '7777',
      statusText: 'Available',
    });
    expect(Object.keys(added).sort()).to.deep.equal(['configurationId', 'extension', 'lastModifiedDate', 'statusText']);
    expect(messages[2].removed).to.deep.equal([b!.configurationId.id]);
    expect(sim.control.user(aid)).not.to.have.property('extension');
    expect(sim.control.user(aid)!.statusText).to.equal('Gone fishing');
  });

  it('sends a subscription on listed users only their changes; a change of an unsubscribed property sends nothing', async () => {
    const [a, b] = sim.control.users();
    await subscribe(s, 'one', { configurationIds: [a!.configurationId.id], properties: ['statusText'] });
    await poll(s);
    sim.control.setProperties(b!.configurationId.id, { statusText: 'Elsewhere' });
    sim.control.setProperties(a!.configurationId.id, { cost: 1 });
    sim.control.setProperties(a!.configurationId.id, { statusText: 'Here' });
    const messages = await poll(s);
    expect(messages).to.have.length(1);
    expect(messages[0].changed).to.deep.equal([{ configurationId: a!.configurationId, statusText: 'Here' }]);
  });

  it('re-PUT replaces the subscription and starts again with a full replace; forceFullReplace sends one to every subscription', async () => {
    await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['extension'] });
    await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['statusText'] });
    const messages = await poll(s);
    expect(messages.map((m) => m.isDelta)).to.deep.equal([false, false]);
    expect(Object.keys(messages[1].added[0]).sort()).to.include('configurationId');
    expect(messages[1].added.some((u: Record<string, unknown>) => 'extension' in u)).to.equal(false);
    await subscribe(s, 'other', { configurationIds: ['*'], properties: ['extension'] });
    await poll(s);
    sim.control.forceFullReplace();
    const replaced = await poll(s);
    expect(replaced.map((m) => [m.subscriptionId, m.isDelta])).to.deep.equal([
      ['dir', false],
      ['other', false],
    ]);
  });

  it('a full replace always carries the users as they are: none as it was when an earlier replace was written', async () => {
    await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['statusText'] });
    const id = sim.control.users()[0]!.configurationId.id;
    const statusOf = (m: { added: { configurationId: { id: string }; statusText?: string }[] }) => m.added.find((u) => u.configurationId.id === id)?.statusText;
    await poll(s); // the first full replace, written (and its users' texts kept)
    sim.control.setProperties(id, { statusText: 'Changed after the first' });
    await poll(s); // the delta
    sim.control.forceFullReplace();
    // Changed again while this replace is queued: it carries the user as queued, and must not keep that text.
    sim.control.setProperties(id, { statusText: 'Changed while queued' });
    const [queued] = await poll(s);
    expect(statusOf(queued)).to.equal('Changed after the first');
    sim.control.forceFullReplace();
    const [latest] = (await poll(s)).filter((m) => m.isDelta === false);
    expect(statusOf(latest)).to.equal('Changed while queued');
    expect(latest.added).to.deep.equal(
      sim.control.users().map((u) => ({ configurationId: u.configurationId, ...(u.statusText === undefined ? {} : { statusText: u.statusText }) })),
    );
  });

  it('expires sessions: the next request gets 401', async () => {
    sim.control.expireSessions();
    expect((await call(s, 'GET', '/messaging/messages')).status).to.equal(401);
    expect(sim.control.sessions()).to.deep.equal([]);
  });

  it('takes the connection down: a connectionStateChangeMessage, then 401', async () => {
    await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['extension'] });
    await poll(s);
    sim.control.connectionDown('SessionTimeout');
    const messages = await poll(s);
    expect(messages).to.deep.equal([
      {
        __type: 'urn:inin.com:connection:connectionStateChangeMessage',
        isDelta: true,
        previousConnectionState: 1,
        newConnectionState: 2,
        reason: 'SessionTimeout',
        shouldReconnect: true,
      },
    ]);
    expect((await call(s, 'GET', '/messaging/messages')).status).to.equal(401);
  });

  it('answers a poll with a raw message alone, so malformed text spoils nothing else', async () => {
    await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['extension'] });
    sim.control.injectRaw('{"__type":"urn:inin.com:unknown", "x":');
    sim.control.injectRaw('{"__type":"urn:inin.com:someOtherMessage"}');
    const first = await poll(s);
    expect(first.map((m) => m.isDelta)).to.deep.equal([false]);
    const raw = await call(s, 'GET', '/messaging/messages');
    expect(await raw.text()).to.equal('[{"__type":"urn:inin.com:unknown", "x":]');
    expect(await poll(s)).to.deep.equal([{ __type: 'urn:inin.com:someOtherMessage' }]);
  });
});

describe('simulator: message queue bound', () => {
  it('drops a session whose queue passes maxQueuedMessages: its next request gets 401, so the client starts over', async () => {
    const sim = await startSimulator({ users: 20, maxQueuedMessages: 5 });
    try {
      const s = await connect(sim.url);
      await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['statusText'] });
      for (let i = 0; i < 10; i++) sim.control.setProperties(sim.control.users()[0]!.configurationId.id, { statusText: `status ${i}` });
      expect((await call(s, 'GET', '/messaging/messages')).status).to.equal(401);
      expect(sim.control.sessions()).to.deep.equal([]);
    } finally {
      await sim.close();
    }
  });
});
