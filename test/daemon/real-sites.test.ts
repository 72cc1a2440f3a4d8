/**
 * icwatch at real sites (README "Behaviour under faults"; docs/icws.md "Real sites"), end to end: the daemon as a
 * child process, the simulator in this process, a private Redis, and the harness's verdict (mirror = the simulator's
 * truth, the WebSocket follower = the mirror, no seq gap). A switchover behind the vendor's web proxy (a real nginx
 * in front of two simulators), an expiring password, a full replace the server sends unasked, down reasons, HTTPS
 * with a private CA.
 */
import { expect } from 'chai';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { DOWN_REASONS } from '../../src/icws/failures.js';
import { SECRETS, Stack, leakedSecrets } from '../chaos/harness.js';
import { nginxBinary, startNginx, type Nginx } from '../helpers/nginx.js';
import { waitFor } from '../helpers/net.js';
import { killAll, metricValue, startIcwatch, type IcwatchProcess } from '../helpers/processes.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

const metrics = async (stack: Stack) => (await stack.icwatch.get('/metrics')).text;

describe('icwatch at real sites', function () {
  this.timeout(120000);
  after(() => killAll());

  describe('switchover behind the vendor web proxy (nginx in front of two simulators)', () => {
    let a: Simulator | undefined;
    let b: Simulator | undefined;
    let proxy: Nginx | undefined;
    let stack: Stack | undefined;
    before(async function () {
      if (!nginxBinary()) {
        console.log('      skipped: nginx is not installed (apt-get install nginx), so no real reverse proxy can be put in front of the simulators');
        return this.skip();
      }
      // Two IC servers, each with its own directory (another seed): converging to b's proves icwatch switched. b's
      // directory removes most of a's users at once, which the delete guard would hold (README "Mass deletions are
      // held"): it is off here.
      a = await startSimulator({ users: 120, seed: 3, password: SECRETS.password, icServer: 'sim-a', ssePingMs: 1000 });
      b = await startSimulator({ users: 90, seed: 4, password: SECRETS.password, icServer: 'sim-b', ssePingMs: 1000 });
      proxy = await startNginx({ 'sim-a': a.url, 'sim-b': b.url });
      stack = await Stack.start({
        sim: a,
        env: {
          ICWATCH_ICWS_URL: proxy.url('sim-a'),
          ICWATCH_ICWS_ALTERNATE_URL_TEMPLATE: `http://127.0.0.1:${proxy.port}/api/{host}/icws`,
          ICWATCH_ICWS_TRANSPORT: 'sse',
          ICWATCH_MIRROR_DELETE_GUARD_MAX_REMOVALS: '0',
        },
      });
      await stack.converged(60000);
    });
    after(async () => {
      await stack?.close();
      await proxy?.stop();
      await a?.close();
      await b?.close();
    });

    it('on a 503 naming sim-b, logs in at /api/sim-b/icws through the proxy, converges to its users and streams its changes', async () => {
      expect(proxy!.accessLog()).to.include('POST /api/sim-a/icws/connection 201');
      a!.control.injectFaults({ status: 503, route: 'connect', count: Infinity, alternateHostList: ['sim-b'] });
      a!.control.expireSessions();
      b!.control.churn(20);
      const { users } = await stack!.converged(60000, b);
      expect(users).to.equal(b!.control.users().length);
      const log = proxy!.accessLog();
      expect(log).to.include('POST /api/sim-a/icws/connection 503');
      expect(log).to.include('POST /api/sim-b/icws/connection 201');
      expect(stack!.output()).to.match(/not accepting connections[^\n]*; trying 127\.0\.0\.1:\d+\/api\/sim-b/);
      // Changes keep coming through the proxy's unbuffered stream: one open stream, not a poll per change.
      b!.control.churn(15);
      await stack!.converged(60000, b);
      expect(b!.control.requests.filter((r) => r.name === 'messages').length).to.be.at.most(3);
      expect(log.some((l) => /^PUT \/api\/sim-b\/icws\/\d+\/messaging\/subscriptions\/configuration\/users\/icwatch 200$/.test(l))).to.equal(true);
      expect(leakedSecrets(stack!.output(), [...a!.control.issuedCredentials(), ...b!.control.issuedCredentials()])).to.deep.equal([]);
    });
  });

  describe('one IC server', () => {
    let stack: Stack;
    before(async () => {
      stack = await Stack.start({ users: 80, seed: 11, simulator: { passwordExpiryDays: 9 } });
      await stack.converged(60000);
    });
    after(async () => stack?.close());

    it('reports the password expiry of the login in icwatch_icws_password_expiry_days and warns at 14 days or less (NaN when not said)', async () => {
      expect(metricValue(await metrics(stack), 'icwatch_icws_password_expiry_days')).to.equal(9);
      expect(stack.output()).to.match(/"level":"warn"[^\n]*the password of ICWS user icwatch expires in 9 days/);
      // The next login does not say: the gauge is unknown again (NaN, which the ≤ 7 alert never matches).
      stack.sim.control.setPasswordExpiryDays(null);
      stack.sim.control.connectionDown('SessionTimeout');
      await waitFor('the gauge to be NaN', async () => Number.isNaN(metricValue(await metrics(stack), 'icwatch_icws_password_expiry_days')), 30000, 100);
      await stack.converged(60000);
    });

    it('logs why the server put the session down and counts it by IceLib reason (other for an unknown one, connection-down for none)', async () => {
      const count = async (reason: string) => metricValue(await metrics(stack), `icwatch_icws_reconnects_total{reason="${reason}"}`);
      for (const reason of ['AdminLogOff', 'AnotherLogOn', 'A reason no one has heard of', undefined]) {
        const label = reason === undefined ? 'connection-down' : (DOWN_REASONS as readonly string[]).includes(reason) ? reason : 'other';
        const before = await count(label);
        stack.sim.control.connectionDown(reason);
        await waitFor(`reconnects{reason="${label}"} to grow`, async () => (await count(label)) === before + 1, 30000, 100);
        await stack.converged(60000);
      }
      const out = stack.output();
      expect(out).to.match(/"level":"warn"[^\n]*ICWS session ended \(connection down: AdminLogOff\)/);
      expect(out).to.match(/"level":"warn"[^\n]*ICWS session ended \(connection down: AnotherLogOn\)/);
      expect(await count('SessionTimeout')).to.equal(1); // the test before
      expect(await metrics(stack)).to.not.include('A reason no one has heard of');
    });

    it('applies a full replace the server sends unasked as one (what the mirror holds beyond it goes) and counts it reason="server"', async () => {
      const servers = async () => metricValue(await metrics(stack), 'icwatch_full_syncs_total{reason="server"}');
      const before = await servers();
      // A user the server's directory does not have reaches the mirror by a delta; only a full replace can remove it.
      stack.sim.control.injectRaw(
        JSON.stringify({
          __type: 'urn:inin.com:configuration.people:usersMessage',
          isDelta: true,
          subscriptionId: 'icwatch',
          added: [{ configurationId: { id: 'ghost', displayName: 'Ghost', uri: '/configuration/users/ghost' }, extension: '9999' }],
        }),
      );
      await waitFor('the ghost in the mirror', async () => (await stack.mirror()).has('ghost'), 30000, 100);
      stack.sim.control.churn(10);
      stack.sim.control.forceFullReplace();
      await stack.converged(60000);
      expect((await stack.mirror()).has('ghost')).to.equal(false);
      expect(await servers()).to.equal(before + 1);
      expect(leakedSecrets(stack.output(), stack.sim.control.issuedCredentials())).to.deep.equal([]);
    });
  });

  describe('HTTPS with a private CA (simulator --tls)', () => {
    let sim: Simulator;
    let stack: Stack | undefined;
    let untrusting: IcwatchProcess | undefined;
    before(async () => {
      sim = await startSimulator({ users: 60, seed: 5, password: SECRETS.password, ssePingMs: 1000, tls: true });
    });
    after(async () => {
      await untrusting?.stop('SIGTERM');
      await stack?.close();
      await sim?.close();
    });

    it('with icws.tls.caFile, icwatch logs in over HTTPS and syncs', async () => {
      expect(sim.url).to.match(/^https:/);
      stack = await Stack.start({ sim, env: { ICWATCH_ICWS_TLS_CA_FILE: sim.caFile! } });
      await stack.converged(60000);
      sim.control.churn(10);
      await stack.converged(60000);
    });

    it('without it, icwatch says the certificate is not trusted and which key to set, and is not ready', async () => {
      untrusting = await startIcwatch({
        ICWATCH_ICWS_URL: sim.url,
        ICWATCH_ICWS_PASSWORD: SECRETS.password,
        ICWATCH_ICWS_BACKOFF_INITIAL_MS: '100',
        ICWATCH_ICWS_BACKOFF_MAX_MS: '500',
        ICWATCH_REDIS_URL: SHARED_REDIS_URL,
        ICWATCH_REDIS_KEY_PREFIX: uniquePrefix('tls'),
      });
      const line = await untrusting.waitForOutput(/[^\n]*TLS certificate is not trusted[^\n]*/, 30000);
      // Node's words for a chain that does not lead to a known CA (the simulator sends its certificate without the CA).
      expect(line).to.match(/unable to verify|self-signed/i);
      expect(line).to.include('icws.tls.caFile');
      const ready = await untrusting.get('/readyz');
      expect(ready.status).to.equal(503);
      expect(ready.text).to.include('certificate is not trusted');
    });
  });
});
