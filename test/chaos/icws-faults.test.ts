/**
 * ICWS faults while changes flow: after each one the mirror equals the simulator's truth, the WebSocket follower
 * equals the mirror, and seq has no gap.
 */
import { expect } from 'chai';
import { Stack, leakedSecrets } from './harness.js';

describe('chaos: ICWS faults', function () {
  this.timeout(120000);
  let stack: Stack;

  before(async () => {
    stack = await Stack.start({ users: 300 });
    await stack.converged();
  });
  after(async () => stack?.close());

  it('session expiry (401) mid-stream: a new session, a new subscription, the mirror converges', async () => {
    stack.sim.control.churn(50);
    stack.sim.control.expireSessions();
    stack.sim.control.churn(50);
    const { users, seq } = await stack.converged();
    expect(users).to.be.greaterThan(250);
    expect(seq).to.be.greaterThan(0);
    const metrics = (await stack.icwatch.get('/metrics')).text;
    expect(metrics).to.match(/icwatch_icws_reconnects_total\{reason="unauthorized"\} [1-9]/);
  });

  it('connectionStateChange down: log in again and converge', async () => {
    stack.sim.control.churn(30);
    stack.sim.control.connectionDown();
    stack.sim.control.churn(30);
    await stack.converged();
    expect((await stack.icwatch.get('/metrics')).text).to.match(/icwatch_icws_reconnects_total\{reason="connection-down"\} [1-9]/);
  });

  it('a burst of 500s on the message queue is retried, nothing is lost', async () => {
    stack.sim.control.injectFaults({ status: 500, route: 'messages', count: 6 });
    stack.sim.control.churn(40);
    await stack.converged();
  });

  it('request timeouts (answers later than icws.requestTimeoutMs) are retried', async () => {
    stack.sim.control.injectFaults({ delayMs: 2500, route: 'messages', count: 3 });
    stack.sim.control.churn(40);
    await stack.converged();
  });

  it('a dropped SSE connection is reopened', async () => {
    stack.sim.control.dropConnections();
    stack.sim.control.churn(40);
    stack.sim.control.dropConnections();
    stack.sim.control.churn(20);
    await stack.converged();
  });

  it('no secret reached any output through all of the above', () => {
    expect(leakedSecrets(stack.output(), stack.sim.control.issuedCredentials())).to.deep.equal([]);
  });
});
