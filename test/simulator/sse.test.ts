import { expect } from 'chai';
import { waitFor } from '../helpers/net.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { call, connect, openStream, streamMessages, subscribe } from './raw-client.js';

describe('simulator: server-sent events', () => {
  let sim: Simulator;
  afterEach(() => sim.close());

  it('streams a retry line first, then the full replace and the deltas, one message per data line, with pings', async () => {
    sim = await startSimulator({ users: 10, ssePingMs: 50 });
    const s = await connect(sim.url);
    await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['statusText'] });
    const stream = await openStream(s);
    try {
      expect(stream.status).to.equal(200);
      await waitFor('the full replace', () => streamMessages(stream.lines).length === 1);
      expect(stream.lines[0]).to.match(/^retry: \d+$/);
      const id = sim.control.users()[0]!.configurationId.id;
      sim.control.setProperties(id, { statusText: null });
      sim.control.setProperties(id, { statusText: 'Back' });
      await waitFor('two deltas', () => streamMessages(stream.lines).length === 3);
      const [full, cleared, set] = streamMessages(stream.lines);
      expect(full).to.include({ isDelta: false, subscriptionId: 'dir' });
      expect(full.added).to.have.length(10);
      expect(cleared.changed[0]).to.include({ statusText: null });
      expect(set.changed[0]).to.include({ statusText: 'Back' });
      await waitFor('a ping', () => stream.lines.some((l) => l.startsWith(':')));
      // What the stream delivered is no longer queued for polling.
      expect(await (await call(s, 'GET', '/messaging/messages')).json()).to.deep.equal([]);
    } finally {
      stream.close();
    }
  });

  it('sends a full replace of 20,000 users as one data line to a slow reader, pings only between messages', async () => {
    // Encoded piece by piece as the socket takes it; a ping every millisecond must not land inside the message.
    sim = await startSimulator({ users: 20000, ssePingMs: 1 });
    const s = await connect(sim.url);
    const properties = ['extension', 'statusText', 'personalInformationProperties', 'workgroups', 'skills'];
    const stream = await openStream(s, 300);
    await subscribe(s, 'dir', { configurationIds: ['*'], properties });
    try {
      await waitFor('the full replace', () => stream.lines.some((l) => l.startsWith('data: ')), 10000);
      const [full] = streamMessages(stream.lines);
      expect(full).to.include({ isDelta: false, subscriptionId: 'dir' });
      const project = (u: Record<string, unknown>) => Object.fromEntries(Object.entries(u).filter(([k]) => k === 'configurationId' || properties.includes(k)));
      const expected = sim.control.users().map(project);
      expect(full.added).to.have.length(expected.length);
      const differs = expected.findIndex((u, i) => JSON.stringify(u) !== JSON.stringify(full.added[i]));
      expect(differs, `added[${differs}]`).to.equal(-1);
      expect(stream.lines.filter((l) => l !== '' && !l.startsWith(':')).map((l) => l.split(':')[0])).to.deep.equal(['retry', 'data']);
    } finally {
      stream.close();
    }
  });

  it('delivers a connectionStateChangeMessage and ends the stream when the connection goes down', async () => {
    sim = await startSimulator({ users: 3 });
    const s = await connect(sim.url);
    const stream = await openStream(s);
    sim.control.connectionDown('SessionTimeout');
    await stream.ended;
    expect(streamMessages(stream.lines)).to.deep.include({
      __type: 'urn:inin.com:connection:connectionStateChangeMessage',
      isDelta: true,
      previousConnectionState: 1,
      newConnectionState: 2,
      reason: 'SessionTimeout',
      shouldReconnect: true,
    });
    expect((await call(s, 'GET', '/connection')).status).to.equal(401);
  });

  it('ends the stream when sessions expire or connections drop', async () => {
    sim = await startSimulator({ users: 3 });
    const a = await openStream(await connect(sim.url));
    sim.control.expireSessions();
    await a.ended;
    const s = await connect(sim.url);
    const b = await openStream(s);
    sim.control.dropConnections();
    await b.ended;
    expect((await call(s, 'GET', '/connection')).status).to.equal(200);
  });

  it('sends injected raw text as it is, one event, and a second stream of the session replaces the first', async () => {
    sim = await startSimulator({ users: 3 });
    const s = await connect(sim.url);
    const first = await openStream(s);
    sim.control.injectRaw('{"__type":"urn:inin.com:unknown", "x":');
    await waitFor('the raw event', () => first.lines.includes('data: {"__type":"urn:inin.com:unknown", "x":'));
    const second = await openStream(s);
    await first.ended;
    sim.control.injectRaw('{"__type":"urn:inin.com:someOtherMessage"}');
    await waitFor('the next event on the new stream', () => streamMessages(second.lines).length === 1);
    second.close();
  });

  it('answers JSON when the messaging feature is version 1', async () => {
    sim = await startSimulator({ users: 3, messagingVersion: 1 });
    const s = await connect(sim.url);
    await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['extension'] });
    const res = await fetch(`${s.base}/${s.sessionId}/messaging/messages`, { headers: { ...s.headers, Accept: 'text/event-stream' } });
    expect(res.headers.get('content-type')).to.match(/^application\/vnd\.inin\.icws\+JSON/);
    const body = (await res.json()) as { isDelta: boolean }[];
    expect(body.map((m) => m.isDelta)).to.deep.equal([false]);
  });
});
