import { expect } from 'chai';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { bareRequest, call, connect, CONNECT_BODY } from './raw-client.js';

describe('simulator: connection', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({ users: 20, alternateHostList: ['backup.example.com'] });
  });
  after(() => sim.close());

  const post = (body: unknown, headers: Record<string, string> = { 'Accept-Language': 'en-us' }, query = '') =>
    fetch(`${sim.url}/connection${query}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('logs in with 201, the session headers, a path-scoped HttpOnly cookie and the connect body', async () => {
    const res = await post(CONNECT_BODY, undefined, '?include=features,version');
    expect(res.status).to.equal(201);
    const body = (await res.json()) as Record<string, unknown>;
    const sid = res.headers.get('ININ-ICWS-Session-ID')!;
    expect(sid).to.be.a('string').and.equal(body.sessionId);
    expect(res.headers.get('ININ-ICWS-CSRF-Token')).to.equal(body.csrfToken);
    expect(res.headers.get('Location')).to.equal(`/icws/${sid}/connection`);
    // As real servers set it: a GUID, then the session's language, in one value.
    expect(res.headers.get('Set-Cookie')).to.match(
      new RegExp(`^icws_${sid}=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\|languageId=en-us; Path=/icws/${sid}; HttpOnly$`),
    );
    expect(res.headers.get('Content-Type')).to.equal('application/vnd.inin.icws+JSON; charset=utf-8');
    expect(body).to.include({ userID: 'icwatch', icServer: 'ic-sim-1' });
    expect(body.alternateHostList).to.deep.equal(['backup.example.com']);
    expect(body.userDisplayName).to.be.a('string');
    expect(body.features).to.deep.include({ featureId: 'messaging', version: 2 });
    expect(body.features).to.deep.include({ featureId: 'configuration', version: 16 });
    expect(body.features).to.deep.include({ featureId: 'connection', version: 1 });
  });

  it('leaves features out of the body unless asked for', async () => {
    const body = (await (await post(CONNECT_BODY)).json()) as Record<string, unknown>;
    expect(body).not.to.have.property('features');
  });

  it('refuses bad credentials as real servers do: 400 authenticationFailure with errorCode -2147221503', async () => {
    const res = await post({ ...CONNECT_BODY, password: 'wrong' });
    expect(res.status).to.equal(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).to.include({ errorId: 'error.request.connection.authenticationFailure', errorCode: -2147221503 });
    expect(body.message).to.be.a('string').and.not.include('wrong');
  });

  it('answers the tidy 401 instead when told so, by option or over the control API', async () => {
    const tidy = await startSimulator({ users: 1, refusedLoginStatus: 401 });
    try {
      const res = await fetch(`${tidy.url}/connection`, {
        method: 'POST',
        headers: { 'Accept-Language': 'en-us' },
        body: JSON.stringify({ ...CONNECT_BODY, password: 'wrong' }),
      });
      expect(res.status).to.equal(401);
      expect(res.headers.get('WWW-Authenticate')).to.match(/^ICWS /);
      expect(((await res.json()) as { errorId: string }).errorId).to.equal('error.request.connection.authenticationFailure');
      const set = await fetch(tidy.url.replace(/\/icws$/, '/_sim/refused-login'), { method: 'POST', body: JSON.stringify({ status: 400 }) });
      expect(set.status).to.equal(200);
      const real = await fetch(`${tidy.url}/connection`, {
        method: 'POST',
        headers: { 'Accept-Language': 'en-us' },
        body: JSON.stringify({ ...CONNECT_BODY, password: 'wrong' }),
      });
      expect(real.status).to.equal(400);
      const bad = await fetch(tidy.url.replace(/\/icws$/, '/_sim/refused-login'), { method: 'POST', body: JSON.stringify({ status: 403 }) });
      expect(bad.status).to.equal(400);
    } finally {
      await tidy.close();
    }
  });

  it('answers a dead session with 401 and the errorCode real servers use: 1 wrong form, 2 not found, -2147221499 invalid', async () => {
    const s = await connect(sim.url);
    const get = async (sessionId: string) => {
      const res = await fetch(`${sim.url}/${sessionId}/messaging/messages`, { headers: s.headers });
      expect(res.status).to.equal(401);
      expect(res.headers.get('WWW-Authenticate')).to.equal('ICWS realm="ICWS" location="/ICWS/connection"');
      expect(res.headers.get('Content-Type')).to.equal('application/vnd.inin.icws+JSON; charset=utf-8');
      return (await res.json()) as { errorId?: string; errorCode: number };
    };
    expect((await get('not-a-session')).errorCode).to.equal(1);
    const unknown = await get('1234');
    expect(unknown).to.include({ errorCode: 2 }).and.not.have.property('errorId');
    sim.control.expireSessions();
    expect(await get(s.sessionId)).to.include({ errorId: 'error.request.connection.authenticationFailure', errorCode: -2147221499 });
  });

  it('requires Accept-Language, the request __type and every field', async () => {
    const noLanguage = await bareRequest(`${sim.url}/connection`, 'POST', { 'Content-Type': 'application/json' }, JSON.stringify(CONNECT_BODY));
    expect(noLanguage.status).to.equal(400);
    expect(JSON.parse(noLanguage.body).message).to.include('Accept-Language');
    expect((await post({ ...CONNECT_BODY, __type: 'urn:other' })).status).to.equal(400);
    const res = await post({ ...CONNECT_BODY, applicationName: undefined });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { message: string }).message).to.include('applicationName');
    const malformed = await fetch(`${sim.url}/connection`, { method: 'POST', headers: { 'Accept-Language': 'en-us' }, body: '{not json' });
    expect(malformed.status).to.equal(400);
    expect(((await malformed.json()) as { errorId: string }).errorId).to.equal('error.request.invalidRepresentation.malformed');
  });

  it('answers 401 with WWW-Authenticate without the cookie, without the CSRF header, or with a wrong one', async () => {
    const s = await connect(sim.url);
    const url = `${sim.url}/${s.sessionId}/connection`;
    const variants: Record<string, string>[] = [
      { 'ININ-ICWS-CSRF-Token': s.csrfToken },
      { cookie: s.cookie },
      { cookie: s.cookie, 'ININ-ICWS-CSRF-Token': 'not-the-token' },
      { cookie: `icws_${s.sessionId}=forged`, 'ININ-ICWS-CSRF-Token': s.csrfToken },
    ];
    for (const headers of variants) {
      const res = await fetch(url, { headers });
      expect(res.status).to.equal(401);
      expect(res.headers.get('WWW-Authenticate')).to.equal('ICWS realm="ICWS" location="/ICWS/connection"');
      const body = (await res.json()) as { errorId: string; errorCode: number; message: string };
      expect(body).to.include({ errorId: 'error.request.connection.authenticationFailure', errorCode: -2147221499 });
      expect(body.message).to.be.a('string').and.not.include(s.csrfToken);
    }
    expect((await fetch(url, { headers: s.headers })).status).to.equal(200);
  });

  it('serves the features without a session', async () => {
    const res = await fetch(`${sim.url}/connection/features`);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { featureInfoList: { featureId: string; version: number }[] };
    expect(body.featureInfoList).to.deep.include({ featureId: 'messaging', version: 2 });
    expect(body.featureInfoList).to.deep.include({ featureId: 'configuration', version: 16 });
    expect(res.headers.get('Content-Type')).to.match(/^application\/vnd\.inin\.icws\+JSON/);
  });

  it('answers the connection state, and logs out with DELETE (then 401)', async () => {
    const s = await connect(sim.url);
    const state = await call(s, 'GET', '/connection');
    expect(await state.json()).to.deep.include({ connectionState: 1 });
    expect((await call(s, 'DELETE', '/connection')).status).to.equal(204);
    expect((await call(s, 'GET', '/connection')).status).to.equal(401);
  });

  it('accepts the read-only account', async () => {
    const s = await connect(sim.url, { userID: 'viewer', password: 'viewer' });
    expect((await call(s, 'GET', '/connection')).status).to.equal(200);
  });
});

describe('simulator: backup server and switchover', () => {
  it('answers every connect with 503 and the alternate hosts when it is not accepting connections', async () => {
    const sim = await startSimulator({ users: 1, notAcceptingConnections: true, alternateHostList: ['127.0.0.2'] });
    try {
      const res = await fetch(`${sim.url}/connection`, { method: 'POST', headers: { 'Accept-Language': 'en-us' }, body: JSON.stringify(CONNECT_BODY) });
      expect(res.status).to.equal(503);
      expect(await res.json()).to.deep.include({ errorId: 'error.server.notAcceptingConnections', alternateHostList: ['127.0.0.2'] });
    } finally {
      await sim.close();
    }
  });

  it('runs a backup on 127.0.0.1 and a primary on 127.0.0.2 at the same port', async () => {
    const backup = await startSimulator({ users: 1, notAcceptingConnections: true, alternateHostList: ['127.0.0.2'] });
    const primary = await startSimulator({ users: 1, host: '127.0.0.2', port: backup.port, icServer: 'ic-sim-2' });
    try {
      expect(primary.url).to.equal(`http://127.0.0.2:${backup.port}/icws`);
      const refused = await fetch(`${backup.url}/connection`, { method: 'POST', headers: { 'Accept-Language': 'en-us' }, body: JSON.stringify(CONNECT_BODY) });
      expect(refused.status).to.equal(503);
      const { alternateHostList } = (await refused.json()) as { alternateHostList: string[] };
      const other = new URL(backup.url);
      other.hostname = alternateHostList[0]!;
      const res = await fetch(`${other.href}/connection`, { method: 'POST', headers: { 'Accept-Language': 'en-us' }, body: JSON.stringify(CONNECT_BODY) });
      expect(res.status).to.equal(201);
      expect(((await res.json()) as { icServer: string }).icServer).to.equal('ic-sim-2');
    } finally {
      await primary.close();
      await backup.close();
    }
  });
});
