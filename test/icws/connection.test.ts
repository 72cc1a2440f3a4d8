import { expect } from 'chai';
import got from 'got';
import { IcwsConnection, serverAt } from '../../src/icws/connection.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { IcwsAuthenticationError } from '../../src/icws/errors.js';
import { UsersSubscription } from '../../src/icws/subscription.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { DEFAULTS } from '../../src/config/defaults.js';

const connectionFor = (url: string, password = 'icwatch') =>
  new IcwsConnection({
    url,
    user: 'icwatch',
    password,
    applicationName: 'icwatch-test',
    acceptLanguage: 'en-us',
    requestTimeoutMs: 2000,
    maxBodyBytes: 1 << 20,
  });

describe('ICWS connection against the simulator', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({ users: 5, configurationVersion: 14 });
  });
  after(() => sim.close());

  it('logs in and reads the features', async () => {
    const conn = connectionFor(sim.url);
    const s = await conn.connect();
    expect(s.sessionId).to.be.a('string').and.not.empty;
    // The cookie as real servers set it, kept whole (GUID and language) to be sent back.
    expect(s.cookie).to.match(new RegExp(`^icws_${s.sessionId}=[0-9a-f-]{36}\\|languageId=en-us$`));
    expect(s.features.get('messaging')).to.equal(2);
    expect(s.features.get('configuration')).to.equal(14);
    await conn.disconnect();
    expect(conn.session).to.equal(undefined);
  });

  it('a request without cookie or without CSRF token gets 401', async () => {
    const conn = connectionFor(sim.url);
    const s = await conn.connect();
    const url = `${s.baseUrl}/${s.sessionId}/messaging/messages`;
    const bare = await got(url, { throwHttpErrors: false, retry: { limit: 0 } });
    expect(bare.statusCode).to.equal(401);
    expect(bare.headers['www-authenticate']).to.match(/ICWS/);
    const noCsrf = await got(url, { headers: { cookie: s.cookie }, throwHttpErrors: false, retry: { limit: 0 } });
    expect(noCsrf.statusCode).to.equal(401);
    const noCookie = await got(url, { headers: { 'ININ-ICWS-CSRF-Token': s.csrfToken }, throwHttpErrors: false, retry: { limit: 0 } });
    expect(noCookie.statusCode).to.equal(401);
    const both = await conn.request('GET', '/messaging/messages', { route: 'GET messages' });
    expect(both.status).to.equal(200);
    await conn.disconnect();
  });

  it('refused credentials are an IcwsAuthenticationError naming the keys to check', async () => {
    const err = await connectionFor(sim.url, 'wrong')
      .connect()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(IcwsAuthenticationError);
    expect((err as Error).message)
      .to.include('icws.password')
      .and.not.include('wrong');
  });

  it('the simulator answers 400 to a subscription with both wildcards sent anyway (raw request)', async () => {
    const conn = connectionFor(sim.url);
    await conn.connect();
    const res = await conn.request('PUT', '/messaging/subscriptions/configuration/users/raw', {
      route: 'PUT subscription',
      json: { configurationIds: ['*'], properties: ['*'], rightsFilter: 'view' },
      allowStatus: [400],
    });
    expect(res.status).to.equal(400);
    expect(JSON.stringify(res.body)).to.match(/wildcard/);
    await conn.disconnect();
  });

  it('PUT then DELETE the subscription; a second DELETE finds it already gone', async () => {
    const conn = connectionFor(sim.url);
    await conn.connect();
    const sub = new UsersSubscription({ ...DEFAULTS.subscription, id: 'pd' });
    await sub.put(conn);
    expect(await sub.delete(conn)).to.equal(true);
    expect(await sub.delete(conn)).to.equal(false);
    await conn.disconnect();
  });

  it('404 on PUT names the missing user id', async () => {
    const conn = connectionFor(sim.url);
    await conn.connect();
    const sub = new UsersSubscription({ ...DEFAULTS.subscription, configurationIds: ['no-such-user'] });
    const err = await sub.put(conn).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.name).to.equal('IcwsConfigError');
    expect(err?.message).to.include('no-such-user').and.include('subscription.configurationIds');
    await conn.disconnect();
  });
});

describe('ICWS connection configuration', () => {
  it('an unreadable CA file is a configuration error naming icws.tls.caFile', () => {
    const make = () =>
      new IcwsConnection({
        url: 'https://127.0.0.1:1/icws',
        user: 'u',
        password: 'p',
        applicationName: 'a',
        acceptLanguage: 'en-us',
        requestTimeoutMs: 100,
        maxBodyBytes: 100,
        tls: { caFile: '/nonexistent/ca.pem', rejectUnauthorized: true },
      });
    expect(make).to.throw(/icws\.tls\.caFile: .*\/nonexistent\/ca\.pem \(ENOENT\)/);
  });
});

describe('ICWS alternate servers (icws.alternateUrlTemplate)', () => {
  const base = { user: 'u', password: 'p', applicationName: 'a', acceptLanguage: 'en-us', requestTimeoutMs: 100, maxBodyBytes: 100 };

  it('by default puts the alternate in place of the host, same scheme and port; with a template, where {host} is', () => {
    expect(new IcwsConnection({ ...base, url: 'https://ic1.example.com:8019/icws' }).alternateUrl('ic2')).to.equal('https://ic2:8019/icws');
    const proxied = new IcwsConnection({
      ...base,
      url: 'https://proxy.example.com/api/ic1/icws',
      alternateUrlTemplate: 'https://proxy.example.com/api/{host}/icws',
    });
    expect(proxied.alternateUrl('ic2')).to.equal('https://proxy.example.com/api/ic2/icws');
    expect(serverAt('https://proxy.example.com/api/ic2/icws')).to.equal('proxy.example.com/api/ic2');
    expect(serverAt('https://ic2:8019/icws')).to.equal('ic2:8019');
  });

  it('a template without {host}, or not an http(s) URL, is a configuration error naming the key and the expected form', () => {
    for (const bad of ['https://proxy.example.com/api/ic2/icws', 'ftp://proxy/api/{host}/icws', '{host}']) {
      const load = () => loadConfig({ env: { ICWATCH_ICWS_ALTERNATE_URL_TEMPLATE: bad } });
      expect(load, bad).to.throw(ConfigError, /icws\.alternateUrlTemplate[\s\S]*\{host\}[\s\S]*https:\/\/proxy\.example\.com\/api\/\{host\}\/icws/);
    }
    expect(loadConfig({ env: { ICWATCH_ICWS_ALTERNATE_URL_TEMPLATE: 'https://proxy:8443/api/{host}/icws' } }).icws.alternateUrlTemplate).to.equal(
      'https://proxy:8443/api/{host}/icws',
    );
  });
});
