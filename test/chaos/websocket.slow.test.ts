/**
 * Consumers that misbehave during heavy churn: one too slow to read, one that keeps disconnecting. Each resumes
 * and ends up holding exactly the mirror; the normal follower is not disturbed.
 */
import { expect } from 'chai';
import { DEFAULTS } from '../../src/config/defaults.js';
import { IcwatchClient } from '../../src/client/index.js';
import { metricValue } from '../helpers/processes.js';
import { waitFor } from '../helpers/net.js';
import { difference } from '../helpers/mirror.js';
import { SECRETS, Stack, leakedSecrets } from './harness.js';

describe('chaos: WebSocket consumers', function () {
  this.timeout(120000);
  let stack: Stack;
  const clients: IcwatchClient[] = [];
  const client = () => {
    const c = new IcwatchClient({
      url: `ws://127.0.0.1:${stack.icwatch.port}${DEFAULTS.websocket.path}`,
      token: SECRETS.token,
      backoff: { initialMs: 50, maxMs: 500, multiplier: 2, jitter: 0.5 },
    });
    c.on('error', () => {});
    clients.push(c);
    return c.start();
  };
  const holdsMirror = async (c: IcwatchClient) => {
    await stack.converged();
    // The statuses of users the churn added follow the next PUT of their subscription (docs/presence.md): the mirror
    // may move on after converging, so the client is checked at the mirror's seq as it stands.
    let last = '';
    await waitFor(
      'the client to hold the mirror at its seq',
      async () => {
        const { seq } = await stack.seqProblems();
        if (c.seq !== seq) return void (last = `client at seq ${c.seq}, mirror at ${seq}`);
        const found = difference(await stack.followedMirror(), c.users);
        if (found || (await stack.seqProblems()).seq !== seq) return void (last = found ?? 'the mirror moved while read');
        return true;
      },
      30000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last: ${last}`);
    });
  };

  before(async () => {
    stack = await Stack.start({ users: 400, env: { ICWATCH_WEBSOCKET_MAX_BUFFERED_BYTES: String(64 * 1024) } });
    await stack.converged();
  });
  after(async () => {
    for (const c of clients) await c.stop();
    await stack?.close();
  });

  it('a slow consumer is closed with 4008, resumes, and loses nothing', async () => {
    const slow = client();
    await waitFor('the slow client to sync', () => slow.seq !== null && slow.connected, 20000);
    const closes: number[] = [];
    slow.on('close', (code: number) => closes.push(code));
    (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    for (let i = 0; i < 10; i++) stack.sim.control.churn(100);
    await waitFor(
      'the slow-consumer disconnect to be counted',
      async () => metricValue((await stack.icwatch.get('/metrics')).text, 'icwatch_ws_disconnects_total{reason="slow-consumer"}') > 0,
      30000,
    );
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    await holdsMirror(slow);
    await holdsMirror(stack.follower);
  });

  it('a consumer that disconnects every second during heavy churn ends up holding the mirror', async () => {
    const flappy = client();
    stack.sim.control.setChurnRate(300);
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      flappy.drop();
    }
    stack.sim.control.setChurnRate(0);
    await holdsMirror(flappy);
    expect(flappy.counts.hello ?? 0).to.be.greaterThan(3);
  });

  it('no secret reached any output', () => {
    expect(leakedSecrets(stack.output(), stack.sim.control.issuedCredentials())).to.deep.equal([]);
  });
});
