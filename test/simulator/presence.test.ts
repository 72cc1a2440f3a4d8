/**
 * The simulator's user statuses (docs/icws.md "User statuses"): the subscription as real servers answer it (one per
 * session, the whole list on each PUT, a full message after it, deltas with userId and statusId always), setting a
 * status (202), the catalogue and its changes, the churn and the shift change, and the control API over HTTP.
 */
import { expect } from 'chai';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { STATUS_MESSAGES_MESSAGE, USER_STATUS_MESSAGE, type UserStatus } from '../../src/icws/user-statuses.js';
import { call, connect, poll, type Json, type RawSession } from './raw-client.js';

const USER_STATUSES = '/messaging/subscriptions/status/user-statuses';

/** The userStatusMessages of one poll, in order. */
async function statusMessages(s: RawSession): Promise<Json[]> {
  return (await poll(s)).filter((m: Json) => m.__type === USER_STATUS_MESSAGE);
}

async function control(sim: Simulator, method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(sim.url.replace(/\/icws$/, `/_sim/${path}`), {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('simulator: user statuses', function () {
  this.timeout(20000);
  let sim: Simulator;
  beforeEach(async () => (sim = await startSimulator({ users: 50, seed: 3, messagingVersion: 1 })));
  afterEach(() => sim.close());

  it('gives every user a status (some logged in, some not), each with userId and statusId', () => {
    const statuses = sim.control.statuses();
    expect(statuses).to.have.length(50);
    expect(new Set(statuses.map((s) => s.userId))).to.deep.equal(new Set(sim.control.users().map((u) => u.configurationId.id)));
    for (const s of statuses) expect(s.statusId).to.be.a('string').and.not.equal('');
    const loggedIn = statuses.filter((s) => s.loggedIn).length;
    expect(loggedIn).to.be.within(10, 45);
  });

  it('answers a PUT with 200 and a full message of every listed user, and each PUT replaces the list', async () => {
    const s = await connect(sim.url);
    const ids = sim.control.users().map((u) => u.configurationId.id);
    expect((await call(s, 'PUT', USER_STATUSES, { userIds: ids.slice(0, 10) })).status).to.equal(200);
    const [first] = await statusMessages(s);
    expect(first.isDelta).to.equal(false);
    expect(first.userStatusList.map((u: UserStatus) => u.userId)).to.have.members(ids.slice(0, 10));
    expect(first.userStatusList[0]).to.deep.equal(sim.control.status(first.userStatusList[0].userId));

    // a second PUT with other ids: the first ones are no longer followed (the list is replaced, not extended)
    expect((await call(s, 'PUT', USER_STATUSES, { userIds: ids.slice(10, 12) })).status).to.equal(200);
    const [second] = await statusMessages(s);
    expect(second.userStatusList.map((u: UserStatus) => u.userId)).to.have.members(ids.slice(10, 12));
    sim.control.setStatus(ids[0]!, { statusId: 'At Lunch' });
    sim.control.setStatus(ids[10]!, { statusId: 'At Lunch' });
    const deltas = await statusMessages(s);
    expect(deltas.flatMap((m: Json) => m.userStatusList.map((u: UserStatus) => u.userId))).to.deep.equal([ids[10]]);

    const puts = sim.control.statusSubscriptionPuts();
    expect(puts.map((p) => [p.userIds.length, p.status])).to.deep.equal([
      [10, 200],
      [2, 200],
    ]);
  });

  it('sends deltas with userId and statusId always and only the properties that changed, stamped', async () => {
    const s = await connect(sim.url);
    const id = sim.control.statuses().find((st) => st.loggedIn && st.onPhone === false)!.userId;
    await call(s, 'PUT', USER_STATUSES, { userIds: [id] });
    await statusMessages(s);
    sim.control.setStatus(id, { onPhone: true });
    const [delta] = await statusMessages(s);
    expect(delta.isDelta).to.equal(true);
    const item = delta.userStatusList[0];
    expect(Object.keys(item).sort()).to.deep.equal(['onPhone', 'onPhoneChanged', 'statusId', 'userId']);
    expect(item.onPhoneChanged).to.match(/^\d{8}T\d{6}Z$/);
    expect(sim.control.status(id)!.onPhone).to.equal(true);
    // the same value again changes nothing and sends nothing
    sim.control.setStatus(id, { onPhone: true });
    expect(await statusMessages(s)).to.deep.equal([]);
  });

  it('refuses a PUT without ids (400) or naming a user it does not know (404 naming it), keeping the list', async () => {
    const s = await connect(sim.url);
    const ids = sim.control.users().map((u) => u.configurationId.id);
    await call(s, 'PUT', USER_STATUSES, { userIds: [ids[0]] });
    await statusMessages(s);
    for (const body of [{}, { userIds: [] }, { userIds: [''] }, { userIds: 'x' }]) expect((await call(s, 'PUT', USER_STATUSES, body)).status).to.equal(400);
    const unknown = await call(s, 'PUT', USER_STATUSES, { userIds: [ids[1], 'nobody'] });
    expect(unknown.status).to.equal(404);
    expect((await unknown.json()).message).to.include('"nobody"');
    sim.control.setStatus(ids[0]!, { notes: 'still followed' });
    const [delta] = await statusMessages(s);
    expect(delta.userStatusList[0]).to.include({ userId: ids[0], notes: 'still followed' });
    expect((await call(s, 'DELETE', USER_STATUSES)).status).to.equal(204);
    expect((await call(s, 'DELETE', USER_STATUSES)).status).to.equal(404);
  });

  it('sets a status with PUT status/user-statuses/{id} (202, an id of the catalogue in any case), refusing unknown ones', async () => {
    const s = await connect(sim.url);
    const id = sim.control.users()[0]!.configurationId.id;
    await call(s, 'PUT', USER_STATUSES, { userIds: [id] });
    await statusMessages(s);
    const res = await call(s, 'PUT', `/status/user-statuses/${id}`, { statusId: 'do not disturb', notes: 'focus' });
    expect(res.status).to.equal(202);
    expect((await res.json()).requestId).to.be.a('string');
    const [delta] = await statusMessages(s);
    expect(delta.userStatusList[0]).to.include({ userId: id, statusId: 'Do Not Disturb', notes: 'focus' });
    expect((await call(s, 'PUT', `/status/user-statuses/${id}`, { statusId: 'Napping' })).status).to.equal(400);
    expect((await call(s, 'PUT', '/status/user-statuses/nobody', { statusId: 'Available' })).status).to.equal(404);
  });

  it('removes a removed user’s status and starts an added user logged out', () => {
    const [a] = sim.control.users();
    sim.control.removeUser(a!.configurationId.id);
    expect(sim.control.status(a!.configurationId.id)).to.equal(undefined);
    sim.control.addUser({ ...a!, configurationId: { id: 'newcomer', displayName: 'Newcomer' } });
    expect(sim.control.status('newcomer')).to.include({ userId: 'newcomer', loggedIn: false, statusId: 'Gone Home' });
  });

  it('churns like a contact centre: calls, breaks, log-ins; every delta reaches the subscriber, and the truth matches', async () => {
    const s = await connect(sim.url);
    const ids = sim.control.users().map((u) => u.configurationId.id);
    await call(s, 'PUT', USER_STATUSES, { userIds: ids });
    const [full] = await statusMessages(s);
    const view = new Map<string, Json>(full.userStatusList.map((u: UserStatus) => [u.userId, { ...u }]));
    sim.control.statusChurn(300);
    for (const m of await statusMessages(s)) for (const item of m.userStatusList) Object.assign(view.get(item.userId), item);
    for (const truth of sim.control.statuses()) expect(view.get(truth.userId), truth.userId).to.deep.equal(truth);
    const calls = sim.control.statuses().filter((st) => st.onPhone).length;
    expect(calls).to.be.greaterThan(0);
  });

  it('logs in a shift of agents within the time asked, several per message', async () => {
    const s = await connect(sim.url);
    await call(s, 'PUT', USER_STATUSES, { userIds: sim.control.users().map((u) => u.configurationId.id) });
    await statusMessages(s);
    const loggedOut = sim.control.statuses().filter((st) => !st.loggedIn).length;
    const { status, json } = await control(sim, 'POST', 'shift-change', { agents: 1000, withinMs: 500 });
    expect(status).to.equal(200);
    expect(json.ids).to.have.length(loggedOut);
    await new Promise((r) => setTimeout(r, 800));
    for (const id of json.ids) expect(sim.control.status(id)).to.include({ loggedIn: true, statusId: 'Available' });
    const messages = await statusMessages(s);
    expect(messages.flatMap((m: Json) => m.userStatusList.map((u: UserStatus) => u.userId))).to.have.members(json.ids);
    expect(messages.length).to.be.lessThan(json.ids.length + 1);
  });

  it('serves the catalogue with its changes to subscribers, and the control API answers with clear errors', async () => {
    const s = await connect(sim.url);
    expect((await call(s, 'PUT', '/messaging/subscriptions/status/status-messages')).status).to.equal(200);
    const entry = { statusId: 'Coaching', messageText: 'Coaching', groupTag: 'TRAINING', iconUri: '/icws/status/status-message-icons/Coaching' };
    expect((await control(sim, 'PUT', 'status-messages/Coaching', entry)).status).to.equal(200);
    expect((await control(sim, 'DELETE', 'status-messages/coaching')).status).to.equal(200);
    const changes = (await poll(s)).filter((m: Json) => m.__type === STATUS_MESSAGES_MESSAGE);
    expect(changes.map((m: Json) => Object.keys(m).filter((k) => k.startsWith('statusMessages')))).to.deep.equal([
      ['statusMessagesAdded'],
      ['statusMessagesRemoved'],
    ]);
    const catalogue = (await (await call(s, 'GET', '/status/status-messages')).json()).statusMessageList;
    expect(catalogue.map((m: Json) => m.statusId)).to.not.include('Coaching');

    const id = sim.control.users()[0]!.configurationId.id;
    expect((await control(sim, 'GET', `statuses/${id}`)).json).to.deep.equal(sim.control.status(id));
    // any statusId is taken through the control API, one the catalogue lacks too (a reader must show it by its id)
    expect((await control(sim, 'POST', `statuses/${id}`, { statusId: 'Custom 42' })).json.statusId).to.equal('Custom 42');
    const bad = await control(sim, 'POST', `statuses/${id}`, { loggedIn: 'yes' });
    expect(bad.status).to.equal(400);
    expect(bad.json.error).to.include('loggedIn');
    expect((await control(sim, 'POST', `statuses/${id}`, { mood: 'happy' })).json.error).to.include('"mood" is not a user status property');
    expect((await control(sim, 'GET', 'statuses/nobody')).status).to.equal(404);
    expect((await control(sim, 'POST', 'status-churn', {})).status).to.equal(400);
  });
});
