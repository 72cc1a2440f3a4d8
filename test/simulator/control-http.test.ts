import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { connect, openStream, poll, streamMessages, subscribe } from './raw-client.js';
import { waitFor } from '../helpers/net.js';

describe('simulator: control API over HTTP', () => {
  let sim: Simulator;
  let control: string;
  before(async () => {
    sim = await startSimulator({ users: 10 });
    control = sim.url.replace(/\/icws$/, '/_sim');
  });
  after(() => sim.close());

  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${control}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };

  it('reads, changes, adds and removes users, and clients see the deltas', async () => {
    const s = await connect(sim.url);
    await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['statusText', 'extension'] });
    await poll(s);
    const users = (await send('GET', '/users')).body as { configurationId: { id: string } }[];
    expect(users).to.have.length(10);
    const id = users[0]!.configurationId.id;
    expect((await send('GET', `/users/${id}`)).body).to.deep.equal(users[0]);
    expect((await send('GET', '/users/nobody')).status).to.equal(404);
    const changed = await send('POST', `/users/${id}`, { statusText: 'Via HTTP', extension: null });
    expect(changed.status).to.equal(200);
    expect(changed.body.statusText).to.equal('Via HTTP');
    expect(changed.body).not.to.have.property('extension');
    expect((await send('PUT', '/users/added.one', { extension: '5555' })).status).to.equal(200);
    expect((await send('PUT', '/users/added.one', { extension: '5555' })).status).to.equal(409);
    expect((await send('DELETE', '/users/added.one')).status).to.equal(200);
    expect((await send('DELETE', '/users/added.one')).status).to.equal(404);
    expect((await send('POST', '/users/nobody', { statusText: 'x' })).status).to.equal(404);
    const messages = await poll(s);
    expect(messages[0].changed[0]).to.include({ statusText: 'Via HTTP', extension: null });
    expect(messages[1].added[0]).to.deep.include({
      configurationId: { id: 'added.one', displayName: 'added.one', uri: '/configuration/users/added.one' },
      extension: '5555',
    });
    expect(messages[2].removed).to.deep.equal(['added.one']);
  });

  it('a lost change: the user changes, no message is sent, and the next full replace carries it', async () => {
    const s = await connect(sim.url);
    await subscribe(s, 'lost', { configurationIds: ['*'], properties: ['statusText'] });
    await poll(s);
    const id = ((await send('GET', '/users')).body as { configurationId: { id: string } }[])[1]!.configurationId.id;
    const changed = await send('POST', `/lost-change/${id}`, { statusText: 'Lost on the way' });
    expect(changed.status).to.equal(200);
    expect(changed.body.statusText).to.equal('Lost on the way');
    expect((await send('POST', '/lost-change/nobody', { statusText: 'x' })).status).to.equal(404);
    expect(await poll(s)).to.deep.equal([]);
    expect((await send('POST', '/full-replace')).status).to.equal(200);
    const [replace] = await poll(s);
    expect(replace.isDelta).to.equal(false);
    expect(replace.added.find((u: { configurationId: { id: string } }) => u.configurationId.id === id)).to.include({ statusText: 'Lost on the way' });
  });

  it('removes many users in one delta, and hides users from the service account: no message, left out of full replaces until shown', async () => {
    const s = await connect(sim.url);
    await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['statusText'] });
    await poll(s);
    for (const id of ['mass.1', 'mass.2', 'mass.3']) expect((await send('PUT', `/users/${id}`, {})).status).to.equal(200);
    expect((await send('POST', '/remove-users', { ids: ['mass.1', 'mass.2', 'nobody'] })).status).to.equal(404);
    expect((await send('POST', '/remove-users', { ids: ['mass.1', 'mass.2'] })).status).to.equal(200);
    let messages = await poll(s);
    expect(messages.at(-1).removed).to.deep.equal(['mass.1', 'mass.2']);

    const ids = ((await send('GET', '/users')).body as { configurationId: { id: string } }[]).map((u) => u.configurationId.id);
    const hidden = ids.filter((id) => id !== 'mass.3').slice(0, 4);
    expect((await send('POST', '/hidden', { hide: hidden })).status).to.equal(200);
    expect((await send('GET', '/hidden')).body).to.deep.equal(hidden);
    expect((await send('POST', '/hidden', {})).status).to.equal(400);
    expect((await send('POST', `/users/${hidden[0]}`, { statusText: 'unseen' })).status).to.equal(200);
    expect((await send('POST', '/users/mass.3', { statusText: 'seen' })).status).to.equal(200);
    await send('POST', '/full-replace');
    messages = await poll(s);
    expect(messages.map((m) => m.isDelta)).to.deep.equal([true, false]);
    expect(messages[0].changed.map((u: { configurationId: { id: string } }) => u.configurationId.id)).to.deep.equal(['mass.3']);
    const replaced = messages[1].added.map((u: { configurationId: { id: string } }) => u.configurationId.id);
    expect(replaced).to.have.length(ids.length - hidden.length);
    for (const id of hidden) expect(replaced).not.to.include(id);
    expect((await send('GET', '/users')).body).to.have.length(ids.length);

    expect((await send('POST', '/hidden', { show: 'all' })).status).to.equal(200);
    await send('POST', '/full-replace');
    expect((await poll(s))[0].added).to.have.length(ids.length);
    await send('DELETE', '/users/mass.3');
  });

  it('churns, forces a full replace, injects raw text, lists sessions and requests, expires and takes connections down', async () => {
    const s = await connect(sim.url);
    await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['statusText'] });
    await poll(s);
    expect((await send('POST', '/churn', { count: 5 })).status).to.equal(200);
    expect((await send('POST', '/churn', {})).status).to.equal(400);
    expect((await send('POST', '/churn', { count: -1 })).status).to.equal(400);
    expect((await send('POST', '/full-replace')).status).to.equal(200);
    expect((await send('POST', '/raw', { text: 'not json' })).status).to.equal(200);
    expect((await send('POST', '/raw', {})).status).to.equal(400);
    const sessions = (await send('GET', '/sessions')).body as { sessionId: string; subscriptions: string[]; queued: number }[];
    const mine = sessions.find((x) => x.sessionId === s.sessionId)!;
    expect(mine.subscriptions).to.deep.equal(['dir']);
    expect(mine.queued).to.be.greaterThan(1);
    const messages = await poll(s);
    expect(messages.at(-1)).to.include({ isDelta: false });
    const requests = (await send('GET', '/requests')).body as { method: string; route: string; name: string; status: number }[];
    expect(requests.some((r) => r.name === 'subscription' && r.route.endsWith('/users/{subscriptionId}') && r.status === 200)).to.equal(true);
    expect(requests.some((r) => r.route.startsWith('/_sim'))).to.equal(false);
    expect((await send('POST', '/connection-down')).status).to.equal(200);
    expect((await send('POST', '/expire-sessions')).status).to.equal(200);
    expect((await send('GET', '/sessions')).body).to.deep.equal([]);
    expect((await send('GET', '/mailboxes/Support')).body).to.be.an('array');
    expect((await send('GET', '/nothing-here')).status).to.equal(404);
  });

  it('drops every open connection, SSE streams included', async () => {
    const stream = await openStream(await connect(sim.url));
    expect((await send('POST', '/drop-connections')).status).to.equal(200);
    await stream.ended;
    expect(streamMessages(stream.lines)).to.deep.equal([]);
  });
});

describe('icwatch simulate', () => {
  it('prints the ICWS and control URLs, serves them, and exits 0 on SIGTERM', async function () {
    this.timeout(30000);
    const child = spawn(process.execPath, ['bin/icwatch.js', 'simulate', '--port', '0', '--users', '7', '--churn', '0', '--seed', '9'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      const url = await waitFor('the URLs', () => /ICWS simulator: (\S+)/.exec(out)?.[1], 20000);
      const controlUrl = /control API:\s+(\S+)/.exec(out)![1]!;
      expect(controlUrl).to.equal(url.replace(/\/icws$/, '/_sim/'));
      const users = (await (await fetch(`${controlUrl}users`)).json()) as unknown[];
      expect(users).to.have.length(7);
      await connect(url);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).to.equal(0);
  });
});
