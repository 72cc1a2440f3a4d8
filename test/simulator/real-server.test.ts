/**
 * The simulator where real servers differ from a tidy one (docs/icws.md "Real sites"): the message stream accepted
 * with the session cookie alone, `:ping` comments, the heartbeat, the unauthenticated version/features/server-info,
 * switchover-status, daysUntilPasswordExpiration, down reasons, and HTTPS with a generated private CA.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { waitFor } from '../helpers/net.js';
import { startCli } from '../helpers/processes.js';
import { call, CONNECT_BODY, connect, openStream, streamMessages, subscribe, type RawSession } from './raw-client.js';

const control = (sim: Simulator, path: string, body: unknown) =>
  fetch(sim.url.replace(/\/icws$/, `/_sim/${path}`), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

/** The session with its cookie and nothing else (what the vendor's browser EventSource sends). */
const cookieOnly = (s: RawSession): RawSession => ({ ...s, headers: { cookie: s.cookie } });

describe('simulator: like a real server', () => {
  let sim: Simulator;
  afterEach(() => sim?.close());

  it('accepts the message stream with the session cookie alone; every other session request still needs the CSRF header', async () => {
    sim = await startSimulator({ users: 5, ssePingMs: 30 });
    const s = await connect(sim.url);
    expect((await subscribe(s, 'dir', { configurationIds: ['*'], properties: ['extension'] })).status).to.equal(200);
    const stream = await openStream(cookieOnly(s));
    try {
      expect(stream.status).to.equal(200);
      await waitFor('the full replace on the cookie-only stream', () => streamMessages(stream.lines).length === 1);
      expect(streamMessages(stream.lines)[0]).to.include({ isDelta: false, subscriptionId: 'dir' });
      // Pings are `:ping` comment lines, as real servers write them.
      await waitFor('a ping', () => stream.lines.includes(':ping'));
      expect(stream.lines.filter((l) => l.startsWith(':'))).to.satisfy((pings: string[]) => pings.every((l) => l === ':ping'));
    } finally {
      stream.close();
    }
    const bare = cookieOnly(s);
    expect((await call(bare, 'GET', '/messaging/messages')).status, 'a poll without CSRF').to.equal(401);
    expect((await call(bare, 'PUT', '/messaging/subscriptions/configuration/users/x', { configurationIds: ['*'], properties: ['extension'] })).status).to.equal(
      401,
    );
    expect((await call(bare, 'POST', '/messaging/heartbeat')).status, 'a heartbeat without CSRF').to.equal(401);
    const wrong = await openStream({ ...s, headers: { cookie: s.cookie, 'ININ-ICWS-CSRF-Token': 'not-the-token' } });
    expect(wrong.status, 'a stream with a wrong CSRF header').to.equal(401);
    wrong.close();
    const noCookie = await openStream({ ...s, headers: {} });
    expect(noCookie.status, 'a stream without the cookie').to.equal(401);
    noCookie.close();
  });

  it('answers the heartbeat (204) while the session lives and 401 once it is gone', async () => {
    sim = await startSimulator({ users: 2 });
    const s = await connect(sim.url);
    expect((await call(s, 'POST', '/messaging/heartbeat')).status).to.equal(204);
    sim.control.expireSessions();
    const gone = await call(s, 'POST', '/messaging/heartbeat');
    expect(gone.status).to.equal(401);
    expect(gone.headers.get('www-authenticate')).to.include('ICWS');
  });

  it('answers version, features and server-info without a session, and switchover-status within one', async () => {
    sim = await startSimulator({ users: 2, icServer: 'ic-east', alternateHostList: ['ic-west'] });
    const get = async (path: string) => {
      const res = await fetch(`${sim.url}${path}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const version = await get('/connection/version');
    expect(version.status).to.equal(200);
    expect(version.body).to.include.keys('majorVersion', 'minorVersion', 'su', 'productPatchDisplayString');
    const features = await get('/connection/features');
    expect(features.status).to.equal(200);
    expect(features.body.featureInfoList).to.deep.include({ featureId: 'messaging', version: 2 });
    const info = await get('/connection/server-info');
    expect(info.status).to.equal(200);
    expect(info.body).to.include({ serverName: 'ic-east', acceptingConnections: true });
    expect(info.body.alternateHostList).to.deep.equal(['ic-west']);
    const s = await connect(sim.url);
    const status = await call(s, 'GET', '/connection/switchover-status');
    expect(status.status).to.equal(200);
    expect(await status.json()).to.deep.equal({ switchoverInProgress: false, alternateHostList: ['ic-west'] });
    expect((await fetch(`${sim.url}/${s.sessionId}/connection/switchover-status`)).status, 'without the session').to.equal(401);
  });

  it('says daysUntilPasswordExpiration at login, as set by the option and the control API (null: not said)', async () => {
    sim = await startSimulator({ users: 2, passwordExpiryDays: 12 });
    const login = async () => {
      const res = await fetch(`${sim.url}/connection`, {
        method: 'POST',
        headers: { 'Accept-Language': 'en-us', 'Content-Type': 'application/json' },
        body: JSON.stringify(CONNECT_BODY),
      });
      return (await res.json()) as Record<string, unknown>;
    };
    expect((await login()).daysUntilPasswordExpiration).to.equal(12);
    expect((await control(sim, 'password-expiry', { days: 3 })).status).to.equal(200);
    expect((await login()).daysUntilPasswordExpiration).to.equal(3);
    expect((await control(sim, 'password-expiry', { days: null })).status).to.equal(200);
    expect(await login()).to.not.have.property('daysUntilPasswordExpiration');
    expect((await control(sim, 'password-expiry', { days: 'soon' })).status).to.equal(400);
  });

  it('puts sessions down with a reason over the control API: the stream carries it, then the session is gone', async () => {
    sim = await startSimulator({ users: 2 });
    const s = await connect(sim.url);
    const stream = await openStream(s);
    expect((await control(sim, 'connection-down', { reason: 'AdminLogOff' })).status).to.equal(200);
    await stream.ended;
    expect(streamMessages(stream.lines)).to.deep.include({
      __type: 'urn:inin.com:connection:connectionStateChangeMessage',
      isDelta: true,
      previousConnectionState: 1,
      newConnectionState: 2,
      reason: 'AdminLogOff',
      shouldReconnect: true,
    });
    expect((await call(s, 'GET', '/connection')).status).to.equal(401);
    expect((await control(sim, 'connection-down', { reason: 7 })).status).to.equal(400);
  });

  describe('--tls', () => {
    it('serves HTTPS with a certificate of a private CA whose PEM file it exposes; a client without that CA refuses it', async function () {
      this.timeout(60000);
      sim = await startSimulator({ users: 2, tls: true });
      expect(sim.url).to.match(/^https:\/\/127\.0\.0\.1:\d+\/icws$/);
      const ca = readFileSync(sim.caFile!);
      expect(ca.toString()).to.include('BEGIN CERTIFICATE');
      const get = (options: { ca?: Buffer }) =>
        new Promise<number>((resolve, reject) => {
          const req = request(`${sim.url}/connection/version`, options, (res) => {
            res.resume();
            resolve(res.statusCode!);
          });
          req.on('error', reject);
          req.end();
        });
      expect(await get({ ca })).to.equal(200);
      const refused = await get({}).then(
        () => undefined,
        (err: NodeJS.ErrnoException) => err.code,
      );
      expect(refused).to.match(/SELF_SIGNED|UNABLE_TO|CERT/);
      const caFile = sim.caFile!;
      await sim.close();
      expect(() => readFileSync(caFile), 'the CA file is removed with the simulator').to.throw();
    });

    it('`icwatch simulate --tls` prints its https URL and the CA file to give icwatch', async function () {
      this.timeout(60000);
      const p = startCli(['simulate', '--tls', '--port', '0', '--users', '3', '--churn', '0', '--password-expiry-days', 'none']);
      try {
        await p.waitForOutput(/CA file: +\S+/, 40000);
        const url = /ICWS simulator: (https:\/\/\S+)/.exec(p.stdout())![1]!;
        const caFile = /CA file: +(\S+)/.exec(p.stdout())![1]!;
        const status = await new Promise<number>((resolve, reject) => {
          const req = request(`${url}/connection/version`, { ca: readFileSync(caFile) }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          });
          req.on('error', reject);
          req.end();
        });
        expect(status).to.equal(200);
      } finally {
        await p.stop('SIGTERM');
      }
    });
  });
});
