import { expect } from 'chai';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { call, connect, CONNECT_BODY, subscribe, type RawSession } from './raw-client.js';

describe('simulator: injected faults', () => {
  let sim: Simulator;
  let s: RawSession;
  beforeEach(async () => {
    sim = await startSimulator({ users: 5, alternateHostList: ['127.0.0.2'] });
    s = await connect(sim.url);
  });
  afterEach(() => sim.close());

  const messages = () => call(s, 'GET', '/messaging/messages');
  const login = () => fetch(`${sim.url}/connection`, { method: 'POST', headers: { 'Accept-Language': 'en-us' }, body: JSON.stringify(CONNECT_BODY) });

  it('answers `count` matching requests with the status and its default errorId, then recovers', async () => {
    sim.control.injectFaults({ status: 500, count: 2, route: 'messages' });
    expect((await call(s, 'GET', '/connection')).status).to.equal(200);
    for (let i = 0; i < 2; i++) {
      const res = await messages();
      expect(res.status).to.equal(500);
      expect(await res.json()).to.deep.include({ errorId: 'error.request.internalServerError' });
    }
    expect((await messages()).status).to.equal(200);
    expect(sim.control.requests.filter((r) => r.name === 'messages').map((r) => r.status)).to.deep.equal([500, 500, 200]);
  });

  it('matches the method too, and keeps an unlimited fault until cleared', async () => {
    sim.control.injectFaults({ status: 504, errorId: 'error.request.timeout', route: 'subscription', method: 'DELETE', count: Infinity });
    expect((await subscribe(s, 'a', { configurationIds: ['*'], properties: ['extension'] })).status).to.equal(200);
    for (let i = 0; i < 3; i++) {
      const res = await call(s, 'DELETE', '/messaging/subscriptions/configuration/users/a');
      expect(res.status).to.equal(504);
      expect(await res.json()).to.deep.include({ errorId: 'error.request.timeout' });
    }
    sim.control.clearFaults();
    expect((await call(s, 'DELETE', '/messaging/subscriptions/configuration/users/a')).status).to.equal(204);
  });

  it('answers 410 Gone on the subscription PUT', async () => {
    sim.control.injectFaults({ status: 410, route: 'subscription', method: 'PUT' });
    const res = await subscribe(s, 'a', { configurationIds: ['*'], properties: ['extension'] });
    expect(res.status).to.equal(410);
    const body = (await res.json()) as { errorId: string; message: string };
    expect(body.message).to.include('removed');
  });

  it('answers 503 with the alternate hosts on connect', async () => {
    sim.control.injectFaults({ status: 503, route: 'connect', alternateHostList: ['ic2.example.com'] });
    const res = await login();
    expect(res.status).to.equal(503);
    expect(await res.json()).to.deep.include({ errorId: 'error.server.unavailable', alternateHostList: ['ic2.example.com'] });
    expect((await login()).status).to.equal(201);
  });

  it('answers 401 with WWW-Authenticate and forgets the session', async () => {
    sim.control.injectFaults({ status: 401, route: 'messages' });
    const res = await messages();
    expect(res.status).to.equal(401);
    expect(res.headers.get('WWW-Authenticate')).to.equal('ICWS realm="ICWS" location="/ICWS/connection"');
    expect((await call(s, 'GET', '/connection')).status).to.equal(401);
  });

  it('drops the connection without answering', async () => {
    sim.control.injectFaults({ drop: true, route: 'messages' });
    let failed: unknown;
    await messages().catch((err: unknown) => (failed = err));
    expect(failed).to.be.instanceOf(Error);
    expect((await messages()).status).to.equal(200);
  });

  it('answers late with a delay, so a client with a short timeout gives up; the request then proceeds normally', async () => {
    sim.control.injectFaults({ delayMs: 1000, route: 'connection' });
    let failed: unknown;
    await fetch(`${sim.url}/${s.sessionId}/connection`, { headers: s.headers, signal: AbortSignal.timeout(100) }).catch((err: unknown) => (failed = err));
    expect((failed as Error)?.name).to.equal('TimeoutError');
    sim.control.injectFaults({ delayMs: 50, route: 'connection' });
    expect((await call(s, 'GET', '/connection')).status).to.equal(200);
  });

  it('takes faults over HTTP too (count null = unlimited) and names what is wrong with a bad one', async () => {
    const control = sim.url.replace(/\/icws$/, '/_sim');
    const bad = await fetch(`${control}/faults`, { method: 'POST', body: JSON.stringify({ status: 'x' }) });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: string }).error).to.include('status');
    expect((await fetch(`${control}/faults`, { method: 'POST', body: JSON.stringify({ status: 500, route: 'messages', count: null }) })).status).to.equal(200);
    for (let i = 0; i < 3; i++) expect((await messages()).status).to.equal(500);
    await fetch(`${control}/faults`, { method: 'DELETE' });
    expect((await messages()).status).to.equal(200);
  });
});
