/**
 * Big directories (README "Big directories"), at test sizes: icwatch as a child process with a small
 * icws.maxMessageBytes reads a full replace many times that size (the bound is per user, not per message), still
 * refuses a user past it with a clear message and a resync, and converges when a full replace arrives while
 * deltas wait for Redis.
 */
import { expect } from 'chai';
import { metricValue } from '../helpers/processes.js';
import { Stack } from '../chaos/harness.js';
import { waitFor } from '../helpers/net.js';

const BOUND = 16 * 1024;

describe('daemon: big directories', function () {
  this.timeout(90000);
  let stack: Stack | undefined;

  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('applies a full replace many times icws.maxMessageBytes, and refuses a user past it with a clear message and a resync', async () => {
    stack = await Stack.start({ users: 400, seed: 3, env: { ICWATCH_ICWS_MAX_MESSAGE_BYTES: String(BOUND) } });
    await stack.converged(60000);
    const replaceBytes = Buffer.byteLength(JSON.stringify([...stack.truth().values()]));
    expect(replaceBytes).to.be.greaterThan(10 * BOUND);

    const [id] = [...stack.truth().keys()];
    stack.sim.control.setProperties(id!, { statusText: 'x'.repeat(BOUND + 100) });
    const rejected = await stack.icwatch.waitForOutput(
      /event rejected: changed\[0\] of a usersMessage larger than 16384 bytes \(icws\.maxMessageBytes\)[^"]*/,
      30000,
    );
    expect(rejected).to.include('asking a full resync');
    await waitFor(
      'the resync',
      async () => metricValue((await stack!.icwatch.get('/metrics')).text, 'icwatch_icws_reconnects_total{reason="resync"}') > 0,
      30000,
    );
    expect((await stack.mirror()).get(id!)?.statusText).to.not.equal('x'.repeat(BOUND + 100));

    // Back within the bound: a later full replace is read and the mirror converges.
    stack.sim.control.setProperties(id!, { statusText: 'Available' });
    await stack.converged(60000);
  });

  it('equals the simulator after full replaces that arrive while deltas wait to be written', async () => {
    stack = await Stack.start({ users: 2000, seed: 5 });
    await stack.converged(60000);
    stack.sim.control.setChurnRate(400);
    for (let i = 0; i < 3; i++) {
      // Deltas before and after each replace, in one burst: they queue behind the batch being written.
      stack.sim.control.churn(200);
      stack.sim.control.forceFullReplace();
      stack.sim.control.churn(200);
      await new Promise((r) => setTimeout(r, 300));
    }
    stack.sim.control.setChurnRate(0);
    await stack.converged(60000);
    const metrics = (await stack.icwatch.get('/metrics')).text;
    expect(metricValue(metrics, 'icwatch_full_syncs_total{reason="server"}')).to.be.at.least(3);
  });
});
