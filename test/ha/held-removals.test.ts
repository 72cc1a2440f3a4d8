/**
 * Held removals with two replicas (README "Mass deletions are held"): only the leader holds and applies them; a
 * standby says the hold from Redis; `icwatch removals` works from the standby's configuration; the replica that takes
 * over knows the hold from Redis and carries out the operator's request.
 */
import { expect } from 'chai';
import { metricValue, runCli } from '../helpers/processes.js';
import { waitFor } from '../helpers/net.js';
import { Replicas } from './replicas.js';

describe('ha: held removals with two replicas', function () {
  this.timeout(120000);
  let r: Replicas;
  after(async () => r?.close());

  it('the leader holds, the standby says so, the new leader applies the request of a CLI run with the standby configuration', async () => {
    r = await Replicas.start({ users: 100, leaseMs: 10000, renewMs: 2000 });
    await r.start('a');
    await waitFor('a leading', async () => (await r.leadershipOf('a')).leadership === 'leader', 20000, 100);
    await r.start('b');
    await r.leaderIs('a');
    r.follow('b');
    await r.converged();

    // 60 of 100 users vanish from a full replace: more than mirror.deleteGuard.maxFraction (0.2).
    const all = r.sim.control.users().map((u) => u.configurationId.id);
    r.sim.control.hideUsers(all.slice(40));
    r.sim.control.forceFullReplace();
    await waitFor('60 removals held', async () => (await r.reader.scard(r.keys.held)) === 60, 30000, 100);
    const metrics = async (name: string) => metricValue((await r.get(name).process.get('/metrics')).text, 'icwatch_removals_held');
    await waitFor('the leader to say 60 held', async () => (await metrics('a')) === 60, 10000, 100);
    expect(await metrics('b')).to.equal(0);
    const standby = JSON.parse((await r.get('b').process.get('/readyz')).text) as Record<string, unknown>;
    expect(standby).to.include({ status: 'ready', leadership: 'standby', removalsHeld: 60 });

    // The leader goes; b takes over and reads the hold back with the mirror.
    expect(await r.get('a').process.stop('SIGTERM')).to.equal(0);
    await waitFor('b leading', async () => (await r.leadershipOf('b')).leadership === 'leader', 15000, 100);
    await waitFor('b to say 60 held', async () => (await metrics('b')) === 60, 20000, 100);
    // The new leader's first full replace still omits them: still held, nobody removed.
    expect(await r.reader.scard(r.keys.ids)).to.equal(100);

    const before = Number(await r.reader.hget(r.keys.meta, 'seq'));
    const env = { ICWATCH_REDIS_URL: r.redis.url, ICWATCH_REDIS_KEY_PREFIX: r.prefix };
    const applied = await runCli(['removals', '--apply'], env, 60000);
    expect(applied.stderr).to.equal('');
    expect(applied.code).to.equal(0);
    const entries = await r.reader.xrange(r.keys.changes, `${before + 1}-0`, '+');
    expect(entries.filter(([, f]) => f[f.indexOf('op') + 1] === 'remove')).to.have.length(60);
    await waitFor('b to say none held', async () => (await metrics('b')) === 0, 10000, 100);
    r.sim.control.showUsers();
    r.sim.control.forceFullReplace();
    await r.converged();
    expect(r.audit.staleWrites()).to.deep.equal([]);
  });
});
