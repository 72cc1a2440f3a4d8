/**
 * The ICWS session at real sites (docs/icws.md "Real sites"), with a real IcwsUsersFeed against the simulator: the
 * password expiry of each login, every IceLib down reason as its own reconnect label, and a full replace the server
 * sends unasked.
 */
import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { DOWN_REASONS } from '../../src/icws/failures.js';
import { startSimulator } from '../../src/simulator/index.js';
import { waitFor } from '../helpers/net.js';
import { FeedProbe, feedFixture, testConfig } from './harness.js';

describe('ICWS session at real sites', function () {
  this.timeout(60000);
  const f = feedFixture();

  const gauge = async (probe: FeedProbe) => (await probe.metrics.icwsPasswordExpiryDays.get()).values[0]?.value;
  const warnings = (probe: FeedProbe) => probe.logLines.filter((l) => l.includes('"level":"warn"') && l.includes('expires'));

  it('sets icwatch_icws_password_expiry_days at each login and warns at each login from 14 days on, naming the user', async () => {
    f.sim = await startSimulator({ users: 5, passwordExpiryDays: 30 });
    expect(Number.isNaN(await gauge((f.probe = new FeedProbe(testConfig(f.sim.url)))))).to.equal(true);
    f.probe.start();
    await f.probe.fullReplace(1);
    expect(await gauge(f.probe)).to.equal(30);
    expect(warnings(f.probe)).to.deep.equal([]);
    f.sim.control.setPasswordExpiryDays(14);
    for (const n of [2, 3]) {
      f.sim.control.expireSessions();
      await f.probe.fullReplace(n);
      expect(await gauge(f.probe)).to.equal(14);
      expect(warnings(f.probe)).to.have.length(n - 1);
    }
    expect(warnings(f.probe)[0]).to.include('the password of ICWS user icwatch expires in 14 days').and.include('icws.password');
    f.sim.control.setPasswordExpiryDays(0);
    f.sim.control.expireSessions();
    await f.probe.fullReplace(4);
    expect(warnings(f.probe)[2]).to.include('expires today');
  });

  it('counts each IceLib down reason under its own name, any other as other, and logs in again each time', async () => {
    f.sim = await startSimulator({ users: 5 });
    f.probe = new FeedProbe(testConfig(f.sim.url, { icws: { transport: 'sse' } })).start();
    await f.probe.fullReplace(1);
    const reasons = [...DOWN_REASONS, 'SomethingElse'];
    for (const [i, reason] of reasons.entries()) {
      f.sim.control.connectionDown(reason);
      const again = await f.probe.fullReplace(i + 2);
      expect(again.syncReason).to.equal('resubscribe');
    }
    for (const reason of DOWN_REASONS) expect(await f.probe.counter('icwsReconnects', { reason }), reason).to.equal(1);
    expect(await f.probe.counter('icwsReconnects', { reason: 'other' })).to.equal(1);
    // Ten logins later the feed's own stop signal holds only the live session's listener: finished requests are not
    // kept alive by it (got leaves its listener on the signal it was given).
    expect(getEventListeners((f.probe.feed as unknown as { abort: AbortController }).abort.signal, 'abort').length).to.be.at.most(2);
    const labels = (await f.probe.metrics.icwsReconnects.get()).values.map((v) => v.labels.reason);
    expect(labels).to.not.include('SomethingElse');
    expect(
      f.probe.logLines.some(
        (l) => l.includes('connection down: StationDeactivated') && l.includes('the server says the connection is down (StationDeactivated)'),
      ),
    ).to.equal(true);
  });

  it('takes a full replace the server sends unasked as one, with reason server', async () => {
    f.sim = await startSimulator({ users: 8 });
    f.probe = new FeedProbe(testConfig(f.sim.url)).start();
    expect((await f.probe.fullReplace(1)).syncReason).to.equal('subscribe');
    f.sim.control.removeUser(f.sim.control.users()[0]!.configurationId.id);
    f.sim.control.forceFullReplace();
    const unasked = await f.probe.fullReplace(2);
    expect(unasked.syncReason).to.equal('server');
    expect(unasked.message.added).to.have.length(7);
    await waitFor('still up', () => f.probe.feed.state.type === 'up');
  });
});
