/**
 * High availability with real processes: two `role: all` replicas of one mirror (ha.leaseMs 3 s, ha.renewMs 0.5 s),
 * the simulator churning, and the faults a leader meets: SIGKILL, SIGTERM, a freeze past its lease (SIGSTOP), its
 * Redis connection cut while the standby's is fine, and both started at the same instant. Each ends with the mirror
 * equal to the simulator, a follower equal to the mirror, no seq gap, and no write landed under a stale fence
 * (test/ha/write-audit.ts reads that off Redis's own MONITOR stream).
 */
import { expect } from 'chai';
import { waitFor } from '../helpers/net.js';
import { Replicas } from '../ha/replicas.js';
import { leakedSecrets } from './harness.js';

const LEASE_MS = 3000;

describe('chaos: high availability (two replicas, one leader)', function () {
  this.timeout(180000);
  let r: Replicas;

  /** a leads (started first), b stands by; the follower is on b, which lives through every fault. */
  async function leaderAndStandby(options: { aViaProxy?: boolean } = {}): Promise<void> {
    r = await Replicas.start({ leaseMs: LEASE_MS, renewMs: 500 });
    await r.start('a', { viaProxy: options.aViaProxy });
    await waitFor('a leading', async () => (await r.leadershipOf('a')).leadership === 'leader', 20000, 100);
    await r.start('b');
    await r.leaderIs('a');
    r.follow('b');
    await r.converged();
  }

  async function verdict(): Promise<void> {
    r.stopChurn();
    await r.converged();
    expect(r.audit.staleWrites(), 'writes landed under a stale fence').to.deep.equal([]);
    expect(r.followerGaps, 'seq gaps seen by the follower').to.equal(0);
    const output = [...r.replicas.values()].map((x) => x.output()).join('\n');
    expect(leakedSecrets(output, r.sim.control.issuedCredentials())).to.deep.equal([]);
  }

  afterEach(async () => r?.close());

  it('SIGKILL of the leader under churn: the standby takes over within the lease; the restarted one stands by', async () => {
    await leaderAndStandby();
    r.churn();
    await new Promise((res) => setTimeout(res, 1000));
    const fenceBefore = r.audit.currentFence;
    await r.get('a').process.stop('SIGKILL');
    await waitFor('b leading', async () => (await r.leadershipOf('b')).leadership === 'leader', LEASE_MS + 10000, 100);
    expect(await r.holder()).to.equal('b');
    expect(r.audit.currentFence).to.equal(fenceBefore + 1);
    await r.start('a');
    await r.leaderIs('b');
    await verdict();
    expect(r.get('b').output()).to.include('leading the mirror as b');
  });

  it('SIGTERM of the leader: its last writes, the lease released, the standby leading at once; exit 0', async () => {
    await leaderAndStandby();
    r.churn();
    await new Promise((res) => setTimeout(res, 1000));
    const t0 = Date.now();
    expect(await r.get('a').process.stop('SIGTERM')).to.equal(0);
    await waitFor('b leading', async () => (await r.leadershipOf('b')).leadership === 'leader', 10000, 50);
    // Not the lease's expiry: the release woke b.
    expect(Date.now() - t0).to.be.lessThan(LEASE_MS);
    expect(r.get('a').output()).to.include('released the leader lease');
    await verdict();
  });

  /**
   * The new leader's ICWS login is held back (503 on connect) until the old leader has come back: in that window the
   * mirror's seq has not moved, so the epoch/seq check alone would let the old leader's queued writes land. Only
   * the fence stops them; the audit must count them as refused, and none as landed.
   */
  async function takeoverWhileOldLeaderReturns(
    fault: () => void | Promise<void>,
    recover: () => void | Promise<void>,
    oldLeaderNoticed: RegExp,
  ): Promise<void> {
    await leaderAndStandby({ aViaProxy: true });
    r.churn();
    await new Promise((res) => setTimeout(res, 1000));
    const fenceBefore = r.audit.currentFence;
    r.sim.control.injectFaults({ route: 'connect', status: 503, count: Infinity });
    await fault();
    await waitFor('b taking the lease', () => r.audit.currentFence === fenceBefore + 1, LEASE_MS + 10000, 50);
    expect(await r.holder()).to.equal('b');
    // The churn goes on: the old leader has messages waiting for it when it comes back.
    await new Promise((res) => setTimeout(res, 1000));
    await recover();
    await waitFor('a stepping down', () => oldLeaderNoticed.test(r.get('a').output()), 15000, 50);
    await waitFor('a standing by', async () => (await r.leadershipOf('a')).leadership === 'standby', 15000, 100);
    r.sim.control.clearFaults();
    await r.leaderIs('b');
    await verdict();
    expect(r.audit.refused, 'writes of the old leader refused for their fence').to.be.greaterThan(0);
    expect(r.audit.landed.filter((w) => w.fence === String(fenceBefore) && w.currentFence !== fenceBefore)).to.deep.equal([]);
  }

  it('the leader frozen (SIGSTOP) past its lease: the standby takes over; on SIGCONT the old leader lands no write and steps down', async () => {
    const proxy = () => r.get('a').proxy!;
    await takeoverWhileOldLeaderReturns(
      async () => {
        // Writes on the wire when the freeze comes: held in the network, delivered after the takeover.
        proxy().hold();
        // An apply call (its keys include the change stream) is on the wire, not just a renew.
        await waitFor('a write held in the network', () => proxy().holds(`${r.keys.changes}\r\n`), 10000, 10);
        r.freeze('a');
      },
      async () => {
        // Still frozen: only the script's fence check can refuse what now reaches Redis.
        proxy().release();
        await waitFor('the held writes to reach Redis', () => r.audit.refused > 0 || r.audit.staleWrites().length > 0, 5000, 50);
        r.thaw('a');
      },
      /stepping down: (could not renew the lease|the lease was taken over|a write was refused for its fence)/,
    );
  });

  it("the leader's Redis connection cut (its proxy silent) while the standby's is fine: the standby takes over, the old leader stands by once healed", async () => {
    await takeoverWhileOldLeaderReturns(
      () => r.get('a').proxy!.cut(),
      async () => {
        // a noticed by itself, through its own timers (its Redis is silent, not refusing), before the network heals.
        await waitFor('a no longer leading', async () => (await r.leadershipOf('a')).leadership !== 'leader', 10000, 100);
        r.get('a').proxy!.heal();
      },
      /stepping down: could not renew the lease within ha\.leaseMs/,
    );
  });

  it('two replicas started at the same instant: exactly one leads, the other stands by, no warning storm', async () => {
    r = await Replicas.start({ leaseMs: LEASE_MS, renewMs: 500 });
    await Promise.all([r.start('a'), r.start('b')]);
    const leader = await waitFor(
      'one leader',
      async () => {
        const [a, b] = [await r.leadershipOf('a'), await r.leadershipOf('b')];
        return a.leadership === 'leader' && b.leadership === 'standby' ? 'a' : b.leadership === 'leader' && a.leadership === 'standby' ? 'b' : undefined;
      },
      20000,
      100,
    );
    await r.leaderIs(leader);
    const standby = leader === 'a' ? 'b' : 'a';
    r.follow(standby);
    r.churn();
    // Several lease periods under churn: still one leader, one takeover in all.
    await new Promise((res) => setTimeout(res, 3 * LEASE_MS));
    await r.leaderIs(leader);
    expect(r.audit.takeovers).to.have.lengthOf(1);
    await verdict();
    for (const name of ['a', 'b']) {
      expect(r.warnings(name), `${name}'s warnings`).to.deep.equal([]);
      expect(r.get(name).output()).not.to.include('mirror meta moved under us');
    }
    expect(
      r
        .get(standby)
        .output()
        .match(/standing by: the leader is/g),
    ).to.have.lengthOf(1);
  });
});
