/**
 * Two `role: all` replicas of one mirror, as an operator sees them: one says leader, the other standby, on /readyz,
 * /metrics and the status page; SIGTERM on the leader hands over to the standby, which then writes.
 */
import { expect } from 'chai';
import { metricValue } from '../helpers/processes.js';
import { waitFor } from '../helpers/net.js';
import { SECRETS } from '../chaos/harness.js';
import { Replicas } from './replicas.js';

describe('ha: two replicas of one mirror', function () {
  this.timeout(60000);
  let r: Replicas;
  after(async () => r?.close());

  it('one leads and one stands by, both ready; SIGTERM on the leader hands over to the standby', async () => {
    r = await Replicas.start({ users: 50, leaseMs: 10000, renewMs: 2000 });
    await r.start('a');
    await waitFor('a leading', async () => (await r.leadershipOf('a')).leadership === 'leader', 20000, 100);
    await r.start('b');
    await r.leaderIs('a');
    r.follow('b');
    await r.converged();

    const metrics = async (name: string) => (await r.get(name).process.get('/metrics')).text;
    expect(metricValue(await metrics('a'), 'icwatch_leader')).to.equal(1);
    expect(metricValue(await metrics('a'), 'icwatch_leader_changes_total')).to.equal(1);
    expect(metricValue(await metrics('b'), 'icwatch_leader')).to.equal(0);
    expect(metricValue(await metrics('b'), 'icwatch_leader_changes_total')).to.equal(0);
    const ready = JSON.parse((await r.get('b').process.get('/readyz')).text) as Record<string, unknown>;
    expect(ready).to.include({ status: 'ready', leadership: 'standby' });
    expect(ready, 'no replica id on the open /readyz').not.to.have.property('leader');
    expect((await r.leadershipOf('b')).leader).to.equal('a');
    // What the live page shows in its Leader row (/v1/status, the page's status JSON).
    const status = async (name: string) => JSON.parse((await r.get(name).process.get(`/v1/status?access_token=${SECRETS.token}`)).text) as { leader?: string };
    expect((await status('a')).leader).to.equal('leader: this replica (a, fence 1)');
    expect((await status('b')).leader).to.match(/^standby: the leader is a/);
    // Only the leader has an ICWS session.
    expect(r.sim.control.requests.filter((q) => q.name === 'connect' && q.status === 201)).to.have.lengthOf(1);

    // SIGTERM: the lease is released, so b takes over well before the 10 s lease would run out.
    const t0 = Date.now();
    expect(await r.get('a').process.stop('SIGTERM')).to.equal(0);
    await waitFor('b leading', async () => (await r.leadershipOf('b')).leadership === 'leader', 8000, 50);
    expect(Date.now() - t0).to.be.lessThan(8000);
    r.sim.control.churn(10);
    await r.converged();
    expect(r.audit.staleWrites()).to.deep.equal([]);
    expect(metricValue(await metrics('b'), 'icwatch_leader')).to.equal(1);
    expect(await r.holder()).to.equal('b');
  });
});
