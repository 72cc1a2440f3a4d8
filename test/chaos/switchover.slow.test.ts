/**
 * Server switchover and a removed resource: the two ICWS faults that end differently from a reconnect.
 */
import { expect } from 'chai';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { SECRETS, Stack, leakedSecrets } from './harness.js';

describe('chaos: switchover and 410', function () {
  this.timeout(120000);

  describe('503 on the primary → the alternate host', () => {
    let primary: Simulator;
    let backup: Simulator;
    let stack: Stack;
    before(async () => {
      primary = await startSimulator({ users: 200, seed: 3, password: SECRETS.password, host: '127.0.0.1' });
      // The backup holds a different directory (another seed): converging to it proves icwatch switched. Its full
      // replace removes most of the primary's users at once, which the delete guard would hold (README "Mass
      // deletions are held"): it is off here.
      backup = await startSimulator({ users: 150, seed: 4, password: SECRETS.password, host: '127.0.0.2', port: primary.port });
      stack = await Stack.start({ sim: primary, env: { ICWATCH_MIRROR_DELETE_GUARD_MAX_REMOVALS: '0' } });
      await stack.converged();
    });
    after(async () => {
      await stack?.close();
      await primary?.close();
      await backup?.close();
    });

    it('after the primary stops accepting connections, icwatch logs in on the alternate host and converges to its users', async () => {
      primary.control.injectFaults({ status: 503, route: 'connect', count: Infinity, alternateHostList: ['127.0.0.2'] });
      primary.control.expireSessions();
      backup.control.churn(30);
      const { users } = await stack.converged(30000, backup);
      expect(users).to.equal(backup.control.users().length);
      expect(backup.control.requests.some((r) => r.name === 'connect' && r.status === 201)).to.equal(true);
      expect((await stack.icwatch.get('/metrics')).text).to.match(/icwatch_icws_reconnects_total\{reason="[a-z-]+"\} [1-9]/);
      expect(leakedSecrets(stack.output(), [...primary.control.issuedCredentials(), ...backup.control.issuedCredentials()])).to.deep.equal([]);
    });
  });

  describe('410 Gone on the subscription', () => {
    let stack: Stack;
    before(async () => {
      stack = await Stack.start({ users: 50 });
      await stack.converged();
    });
    after(async () => stack?.close());

    it('icwatch stops, names the route the server removed, and exits 78', async () => {
      stack.sim.control.injectFaults({ status: 410, route: 'subscription', count: Infinity });
      stack.sim.control.expireSessions();
      const code = await Promise.race([stack.icwatch.exited, new Promise((r) => setTimeout(() => r('still running'), 30000))]);
      expect(code).to.equal(78);
      expect(stack.output())
        .to.match(/410/)
        .and.to.match(/subscription/i);
      expect(leakedSecrets(stack.output(), stack.sim.control.issuedCredentials())).to.deep.equal([]);
    });
  });
});
