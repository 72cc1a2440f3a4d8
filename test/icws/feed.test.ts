import { expect } from 'chai';
import { IcwsConfigError, IcwsGoneError } from '../../src/icws/errors.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { waitFor } from '../helpers/net.js';
import { FeedProbe, testConfig } from './harness.js';

const USERS = 12;

describe('ICWS users feed against the simulator', () => {
  let sim: Simulator;
  let probe: FeedProbe | undefined;
  afterEach(async () => {
    await probe?.close();
    probe = undefined;
    await sim?.close();
  });

  const requests = (name: string, method?: string) => sim.control.requests.filter((r) => r.name === name && (!method || r.method === method));

  for (const transport of ['poll', 'sse'] as const) {
    it(`${transport}: delivers the full replace, then deltas in order`, async () => {
      sim = await startSimulator({ users: USERS, messagingVersion: transport === 'sse' ? 2 : 1 });
      probe = new FeedProbe(testConfig(sim.url, { icws: { transport: 'auto' } })).start();
      const first = await probe.fullReplace(1);
      expect(first.syncReason).to.equal('subscribe');
      expect(first.message.added).to.have.length(USERS);
      const [a, b] = sim.control.users();
      for (let i = 0; i < 5; i++) sim.control.setProperties(a!.configurationId.id, { extension: `70${i}` });
      sim.control.setProperties(b!.configurationId.id, { statusText: null });
      sim.control.removeUser(b!.configurationId.id);
      const deltas = await waitFor('7 deltas', () => (probe!.messages.length >= 8 ? probe!.messages.slice(1) : undefined));
      expect(deltas.map((d) => d.message.isDelta)).to.deep.equal(Array(7).fill(true));
      expect(deltas.slice(0, 5).map((d) => d.message.changed?.[0]?.extension)).to.deep.equal(['700', '701', '702', '703', '704']);
      expect(deltas[5]!.message.changed?.[0]).to.deep.include({ statusText: null });
      expect(deltas[6]!.message.removed).to.deep.equal([b!.configurationId.id]);
      // auto picked the transport from the messaging feature: polling makes many GETs, SSE one stream.
      if (transport === 'sse') expect(requests('messages')).to.have.length(1);
      else expect(requests('messages').length).to.be.greaterThan(1);
      expect(probe.feed.state).to.deep.include({ type: 'up', subscribed: true });
    });
  }

  for (const [what, act, reason] of [
    ['a session expired by the server', (s: Simulator) => s.control.expireSessions(), 'unauthorized'],
    ['a connectionStateChange down', (s: Simulator) => s.control.connectionDown(), 'connection-down'],
  ] as const) {
    for (const transport of ['poll', 'sse'] as const) {
      it(`${transport}: ${what} is recovered with a new session, subscription and full replace`, async () => {
        sim = await startSimulator({ users: USERS });
        probe = new FeedProbe(testConfig(sim.url, { icws: { transport } })).start();
        await probe.fullReplace(1);
        const before = probe.feed.state.type === 'up' ? probe.feed.state.sessionId : '';
        act(sim);
        const again = await probe.fullReplace(2);
        expect(again.syncReason).to.equal('resubscribe');
        expect(again.message.added).to.have.length(USERS);
        expect(requests('connect')).to.have.length(2);
        expect(requests('subscription', 'PUT')).to.have.length(2);
        await waitFor('up again', () => probe!.feed.state.type === 'up');
        expect(probe.feed.state.type === 'up' && probe.feed.state.sessionId).to.not.equal(before);
        expect(await probe.counter('icwsReconnects', { reason })).to.equal(1);
        // and the new session carries deltas
        const id = sim.control.users()[0]!.configurationId.id;
        sim.control.setProperties(id, { extension: '4242' });
        await waitFor('delta after recovery', () => probe!.messages.find((m) => m.message.changed?.[0]?.extension === '4242'));
      });
    }
  }

  /** A backup on 127.0.0.2 and a primary on 127.0.0.1, same port (retried on another port if 127.0.0.1 has it taken). */
  async function pair(primaryOptions: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
    for (let i = 0; i < 5; i++) {
      const b = await startSimulator({ host: '127.0.0.2', users: USERS, icServer: 'ic-backup' });
      try {
        sim = await startSimulator({ ...primaryOptions, host: '127.0.0.1', port: b.port, alternateHostList: ['127.0.0.2'] });
        return b;
      } catch {
        await b.close();
      }
    }
    throw new Error('no port free on both 127.0.0.1 and 127.0.0.2');
  }

  it('a 503 on the first host leads to the alternate host (same port)', async () => {
    const backup = await pair({ notAcceptingConnections: true });
    try {
      probe = new FeedProbe(testConfig(sim.url)).start();
      const first = await probe.fullReplace(1);
      expect(first.icServer).to.equal('ic-backup');
      expect(probe.feed.state).to.deep.include({ type: 'up', host: `127.0.0.2:${backup.port}` });
      expect(requests('connect').map((r) => r.status)).to.deep.equal([503]);
      expect(backup.control.requests.filter((r) => r.name === 'connect').map((r) => r.status)).to.deep.equal([201]);
      await probe.close();
      probe = undefined;
      expect(backup.control.requests.filter((r) => r.method === 'DELETE').map((r) => r.name)).to.deep.equal(['subscription', 'connection']);
    } finally {
      await backup.close();
    }
  });

  it('a server that stops answering is left for an alternate host it listed at login', async () => {
    const backup = await pair({ icServer: 'ic-primary' });
    try {
      probe = new FeedProbe(testConfig(sim.url, { icws: { transport: 'poll' } })).start();
      expect((await probe.fullReplace(1)).icServer).to.equal('ic-primary');
      await sim.close();
      const again = await probe.fullReplace(2);
      expect(again).to.deep.include({ icServer: 'ic-backup', syncReason: 'resubscribe' });
      expect(await probe.counter('icwsReconnects', { reason: 'network' })).to.equal(1);
      await probe.close();
      probe = undefined;
    } finally {
      await backup.close();
    }
  });

  it('sse forced on a server without server-sent events falls back to polling', async () => {
    sim = await startSimulator({ users: USERS, messagingVersion: 1 });
    probe = new FeedProbe(testConfig(sim.url, { icws: { transport: 'sse' } })).start();
    await probe.fullReplace(1);
    sim.control.setProperties(sim.control.users()[0]!.configurationId.id, { extension: '9191' });
    await waitFor('delta by polling', () => probe!.messages.find((m) => m.message.changed?.[0]?.extension === '9191'));
    expect(requests('messages').length).to.be.greaterThan(1);
    expect(probe.logLines.join('')).to.include('polling instead');
  });

  it('a 500 burst is retried with growing delays, then the session comes up', async () => {
    sim = await startSimulator({ users: USERS });
    sim.control.injectFaults({ status: 500, route: 'connect', count: 4 });
    probe = new FeedProbe(testConfig(sim.url)).start();
    // The first subscription that came through is still the first: its full replace says 'subscribe'.
    expect((await probe.fullReplace(1)).syncReason).to.equal('subscribe');
    expect(probe.states.flatMap((s) => (s.type === 'connecting' ? [s.attempt] : []))).to.deep.equal([1, 2, 3, 4, 5]);
    const delays = probe.states.flatMap((s) => (s.type === 'reconnecting' ? [s.retryInMs] : []));
    expect(delays).to.have.length(4);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).to.be.greaterThan(delays[i - 1]!);
    expect(await probe.counter('icwsReconnects', { reason: 'server-error' })).to.equal(4);
  });

  it('a 500 burst on the message polls is retried with growing delays, nothing lost', async () => {
    sim = await startSimulator({ users: USERS });
    probe = new FeedProbe(testConfig(sim.url, { icws: { transport: 'poll' } })).start();
    await probe.fullReplace(1);
    sim.control.injectFaults({ status: 500, route: 'messages', count: 3 });
    sim.control.setProperties(sim.control.users()[0]!.configurationId.id, { extension: '5151' });
    await waitFor('delta after the burst', () => probe!.messages.find((m) => m.message.changed?.[0]?.extension === '5151'));
    const delays = probe.states.flatMap((s) => (s.type === 'reconnecting' ? [s.retryInMs] : []));
    expect(delays).to.deep.equal([10, 20, 40]);
    expect(probe.feed.state.type).to.equal('up');
  });

  it('410 on the subscription is fatal and names the resource path and the route', async () => {
    sim = await startSimulator({ users: USERS });
    sim.control.injectFaults({ status: 410, route: 'subscription', method: 'PUT' });
    probe = new FeedProbe(testConfig(sim.url)).start();
    await waitFor('fatal error', () => probe!.error);
    expect(probe.error).to.be.instanceOf(IcwsGoneError);
    expect((probe.error as Error).message)
      .to.include('messaging/subscriptions/configuration/users/')
      .and.include('PUT subscription')
      .and.include('410');
    expect(probe.feed.state).to.deep.include({ type: 'failed', fatal: true });
  });

  it('a subscription with both wildcards is refused before anything is sent', async () => {
    sim = await startSimulator({ users: USERS });
    probe = new FeedProbe(testConfig(sim.url, { subscription: { properties: ['*'] } })).start();
    await waitFor('fatal error', () => probe!.error);
    expect(probe.error).to.be.instanceOf(IcwsConfigError);
    expect((probe.error as Error).message)
      .to.include('subscription.properties')
      .and.include('configurationIds');
    expect(requests('subscription', 'PUT')).to.have.length(0);
  });

  it('malformed and unknown messages are skipped, the stream goes on, and a resync converges', async () => {
    sim = await startSimulator({ users: USERS });
    probe = new FeedProbe(testConfig(sim.url, { icws: { transport: 'sse' } })).start();
    await probe.fullReplace(1);
    sim.control.injectRaw('{"__type": "urn:inin.com:configuration.people:usersMessage", "isDelta": tru');
    sim.control.injectRaw(JSON.stringify({ __type: 'urn:inin.com:queues:queueContentsMessage', isDelta: true }));
    sim.control.injectRaw(JSON.stringify({ __type: 'urn:inin.com:configuration.people:usersMessage', isDelta: 'yes' }));
    sim.control.setProperties(sim.control.users()[0]!.configurationId.id, { extension: '6161' });
    await waitFor('delta after the bad messages', () => probe!.messages.find((m) => m.message.changed?.[0]?.extension === '6161'));
    const resync = await probe.fullReplace(2);
    expect(resync.syncReason).to.equal('unreadable');
    expect(await probe.counter('messages', { type: 'malformed' })).to.equal(2);
    expect(await probe.counter('messages', { type: 'unknown' })).to.equal(1);
    expect(probe.error).to.equal(undefined);
    expect(requests('connect')).to.have.length(1); // same session throughout
  });

  it('an unparseable poll answer is skipped and a resync asked', async () => {
    sim = await startSimulator({ users: USERS });
    probe = new FeedProbe(testConfig(sim.url, { icws: { transport: 'poll' } })).start();
    await probe.fullReplace(1);
    sim.control.injectRaw('{oops');
    const resync = await probe.fullReplace(2);
    expect(resync.syncReason).to.equal('unreadable');
    expect(probe.feed.state.type).to.equal('up');
  });

  it('a login refused for bad credentials is not retried at once, and the state says why', async () => {
    sim = await startSimulator({ users: USERS });
    probe = new FeedProbe(testConfig(sim.url, { icws: { password: 'wrong', backoff: { initialMs: 10, maxMs: 5000, multiplier: 2, jitter: 0 } } })).start();
    await waitFor('reconnecting', () => probe!.feed.state.type === 'reconnecting');
    expect(probe.feed.state).to.deep.include({ type: 'reconnecting', reason: 'authentication failed', retryInMs: 5000 });
    await new Promise((r) => setTimeout(r, 200));
    expect(requests('connect')).to.have.length(1);
    expect(await probe.counter('icwsReconnects', { reason: 'auth-failure' })).to.equal(1);
  });

  it('stop() deletes the subscription and the connection, then completes', async () => {
    sim = await startSimulator({ users: USERS });
    probe = new FeedProbe(testConfig(sim.url)).start();
    await probe.fullReplace(1);
    const { csrfToken, cookie } = probe.feed.connection.session!;
    await probe.close();
    const logs = probe.logLines.join('');
    expect(logs)
      .to.include('logged out')
      .and.not.include(csrfToken)
      .and.not.include(cookie.slice(cookie.indexOf('=') + 1));
    const deletes = sim.control.requests.filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => `${r.name} ${r.status}`)).to.deep.equal(['subscription 204', 'connection 204']);
    expect(probe.completed).to.equal(true);
    expect(probe.feed.state.type).to.equal('closed');
    expect(sim.control.sessions()).to.have.length(0);
    probe = undefined;
  });

  const huge = () =>
    JSON.stringify({
      __type: 'urn:inin.com:configuration.people:usersMessage',
      isDelta: true,
      changed: [{ configurationId: { id: 'x' }, notes: 'n'.repeat(64 * 1024) }],
    });

  for (const transport of ['poll', 'sse'] as const) {
    it(`${transport}: a message over icws.maxMessageBytes is rejected, then a resync converges`, async () => {
      sim = await startSimulator({ users: USERS });
      probe = new FeedProbe(testConfig(sim.url, { icws: { transport, maxMessageBytes: 32 * 1024 } })).start();
      await probe.fullReplace(1);
      sim.control.injectRaw(huge());
      const resync = await probe.fullReplace(2);
      expect(resync.syncReason).to.equal('unreadable');
      expect(probe.messages.some((m) => m.message.changed?.some((u) => u.configurationId.id === 'x'))).to.equal(false);
      expect(probe.logLines.join('')).to.include('icws.maxMessageBytes');
      expect(probe.error).to.equal(undefined);
    });
  }

  it('sse: a dropped stream is reopened in the same session, and a resync covers what was in flight', async () => {
    sim = await startSimulator({ users: USERS, sseRetryMs: 10 });
    probe = new FeedProbe(testConfig(sim.url, { icws: { transport: 'sse' } })).start();
    await probe.fullReplace(1);
    sim.control.dropConnections();
    expect((await probe.fullReplace(2)).syncReason).to.equal('unreadable');
    sim.control.setProperties(sim.control.users()[0]!.configurationId.id, { extension: '7171' });
    await waitFor('delta on the reopened stream', () => probe!.messages.find((m) => m.message.changed?.[0]?.extension === '7171'));
    expect(requests('connect')).to.have.length(1);
    expect(probe.feed.state.type).to.equal('up');
  });

  it('a faulted subscription is PUT again; its full replace follows', async () => {
    sim = await startSimulator({ users: USERS });
    probe = new FeedProbe(testConfig(sim.url)).start();
    await probe.fullReplace(1);
    sim.control.injectRaw(JSON.stringify({ __type: 'urn:inin.com:messaging:subscriptionStateMessage', state: 3, error: { message: 'lost' } }));
    const again = await probe.fullReplace(2);
    expect(again.syncReason).to.equal('resubscribe');
    expect(requests('subscription', 'PUT')).to.have.length(2);
    expect(requests('connect')).to.have.length(1);
  });

  it('an SSE stream silent for icws.sseIdleTimeoutMs is dropped and reopened', async () => {
    sim = await startSimulator({ users: USERS, ssePingMs: 60_000, sseRetryMs: 10 });
    probe = new FeedProbe(testConfig(sim.url, { icws: { transport: 'sse', sseIdleTimeoutMs: 150 } })).start();
    await probe.fullReplace(1);
    await waitFor('a second stream', () => requests('messages').length >= 2);
    sim.control.setProperties(sim.control.users()[0]!.configurationId.id, { extension: '8181' });
    await waitFor('delta on the new stream', () => probe!.messages.find((m) => m.message.changed?.[0]?.extension === '8181'));
    expect(probe.logLines.join('')).to.include('icws.sseIdleTimeoutMs');
  });

  it('410 on the message route is fatal and names it', async () => {
    sim = await startSimulator({ users: USERS, messagingVersion: 1 });
    probe = new FeedProbe(testConfig(sim.url)).start();
    await probe.fullReplace(1);
    sim.control.injectFaults({ status: 410, route: 'messages' });
    await waitFor('fatal error', () => probe!.error);
    expect(probe.error).to.be.instanceOf(IcwsGoneError);
    expect((probe.error as Error).message).to.include('GET messages');
  });

  it('warns at start about each requested property newer than the server, nested fields too', async () => {
    sim = await startSimulator({ users: USERS, configurationVersion: 13 });
    probe = new FeedProbe(
      testConfig(sim.url, { subscription: { properties: ['extension', 'licenseProperties', 'emergencyResponderLocationID', 'acdWhatsApp'] } }),
    ).start();
    const first = await probe.fullReplace(1);
    const warnings = probe.logLines.filter((l) => l.includes('"warn"') && l.includes('configuration feature version'));
    expect(warnings).to.have.length(3);
    expect(warnings.join(''))
      .to.include('emergencyResponderLocationID')
      .and.include('licenseProperties.acdSocialMedia')
      .and.include('licenseProperties.acdWhatsApp');
    // A nested field asked as a property of its own is named as such.
    expect(probe.logLines.join('')).to.include('acdWhatsApp\\" is a field inside licenseProperties, not a user property of its own');
    // And the server, consistent with its version, serves neither.
    for (const u of first.message.added ?? []) {
      expect(u).not.to.have.property('emergencyResponderLocationID');
      expect(u.licenseProperties).not.to.have.property('acdSocialMedia');
    }
  });
});
