/**
 * Failover of two `role: all` replicas of one mirror (high availability), real processes, the simulator churning
 * CHURN_PER_SEC changes per second, ha.leaseMs LEASE_MS:
 * - failoverKillSeconds: SIGKILL of the leader → the first change committed by the new leader (target ≤ leaseMs + 3 s);
 *   failoverAfterExpirySeconds: the part of it after the killed leader's lease ran out in Redis (its remaining time
 *   read just before the kill): the standby's own share, which does not depend on where in the renewal cycle the
 *   kill fell;
 * - failoverTermSeconds: SIGTERM of the leader → the same (target ≤ 3 s: the lease is released, the standby woken);
 * - failoverGaps: seq gaps in the change stream and in what followers received (must be 0);
 * - failoverStaleWrites: writes that landed carrying a stale fence, read off Redis's MONITOR stream (must be 0).
 * Commit times are Redis's own clock (MONITOR), on the same machine as the signal's Date.now().
 * `--presence off|on` (bench/presence-switch.ts; default off, as the figures of earlier runs were measured): with it
 * on, a new leader also loads the statuses and re-subscribes to them before its first change; failoverPresence says which.
 */
import { waitFor } from '../test/helpers/net.js';
import { Replicas } from '../test/ha/replicas.js';
import { streamSeqs } from '../test/helpers/mirror.js';
import type { Figures } from './run.js';
import { presenceEnv, presenceSwitch } from './presence-switch.js';

const LEASE_MS = 3000;
const RENEW_MS = 1000;
/** Changes per second while the leader is killed and stopped (the first change after a takeover comes at once). */
const CHURN_PER_SEC = 20;

export default async function failoverBench({ quick, log }: { quick: boolean; log: (line: string) => void }): Promise<Figures> {
  const presence = presenceSwitch('off');
  const r = await Replicas.start({ users: quick ? 300 : 2000, leaseMs: LEASE_MS, renewMs: RENEW_MS, env: presenceEnv(presence) });
  try {
    await r.start('a');
    await waitFor('a leading', async () => (await r.leadershipOf('a')).leadership === 'leader', 30000, 100);
    await r.start('b');
    await r.leaderIs('a');
    r.follow('b');
    await r.converged(60000);
    r.churn(CHURN_PER_SEC / 10);
    await new Promise((res) => setTimeout(res, 1000));

    let leaseLeftMs = NaN;
    const killSeconds = await takeover(r, 'b', async () => {
      leaseLeftMs = await r.leaseRemainingMs();
      return r.get('a').process.stop('SIGKILL');
    });
    const afterExpirySeconds = leaseLeftMs >= 0 ? Math.round((killSeconds - leaseLeftMs / 1000) * 1000) / 1000 : NaN;
    log(
      `  SIGKILL of the leader → first change committed by the new one: ${killSeconds.toFixed(2)} s (lease ${LEASE_MS / 1000} s, ${leaseLeftMs} ms of it left at the kill: ${afterExpirySeconds.toFixed(3)} s after it ran out)`,
    );
    await r.start('a');
    await r.leaderIs('b');
    // The follower must outlive the next fault: it follows a, the replica that will take over.
    const firstFollower = r.follower!;
    r.follow('a');
    await new Promise((res) => setTimeout(res, 2000));

    let exit: Promise<number | string> | undefined;
    const termSeconds = await takeover(r, 'a', () => void (exit = r.get('b').process.stop('SIGTERM')));
    log(`  SIGTERM of the leader → first change committed by the new one: ${termSeconds.toFixed(2)} s (exit ${await exit})`);
    await firstFollower.stop();

    r.stopChurn();
    await r.converged(60000);
    const seqs = await streamSeqs(r.reader, r.keys);
    const streamGaps = seqs.filter((s, i) => i > 0 && s !== seqs[i - 1]! + 1).length;
    const stale = r.audit.staleWrites().length;
    log(`  gaps: ${streamGaps} in the stream, ${r.followerGaps} seen by followers; stale writes landed: ${stale} (refused: ${r.audit.refused})`);
    return {
      failoverPresence: presence,
      failoverLeaseMs: LEASE_MS,
      failoverKillSeconds: killSeconds,
      failoverAfterExpirySeconds: afterExpirySeconds,
      failoverTermSeconds: termSeconds,
      failoverGaps: streamGaps + r.followerGaps,
      failoverStaleWrites: stale,
    };
  } finally {
    await r.close();
  }
}

/** Seconds from `fault` to the first change entry committed under the next fence, with `next` then leading. */
async function takeover(r: Replicas, next: string, fault: () => unknown): Promise<number> {
  const fence = r.audit.currentFence + 1;
  const t0 = Date.now();
  await fault();
  const first = await waitFor(`a change committed under fence ${fence}`, () => r.audit.firstChangeUnder(fence), 30000, 20);
  await r.leaderIs(next);
  return (first.at - t0) / 1000;
}
