/**
 * Mass deletions are held (README "Mass deletions are held"), with real processes: icwatch as a child process, the
 * simulator, a private Redis, `icwatch removals` as a child process, and a WebSocket client that must end every
 * scenario holding exactly the mirror. The simulator hides users from the service account the way a change of its
 * rights would: no message says so, and the next full replace leaves them out.
 */
import { expect } from 'chai';
import type { Change } from '../../src/client/index.js';
import { METRIC_NAMES } from '../../src/metrics/metrics.js';
import { difference, subscribedUsers, type Props } from '../helpers/mirror.js';
import { waitFor } from '../helpers/net.js';
import { everyStatusMirrored, killAll, metricValue, runCli } from '../helpers/processes.js';
import { SECRETS, Stack } from './harness.js';

const auth = { authorization: `Bearer ${SECRETS.token}` };

describe('chaos: mass deletions are held', function () {
  this.timeout(240000);
  let stack: Stack;
  /** (epoch, seq) → the entry the WebSocket client saw: a seq is never reused for another change within an epoch. */
  const seen = new Map<string, string>();
  const removesSeen: Change[] = [];

  const watch = (s: Stack) => {
    s.follower.on('change', (c: Change) => {
      const key = `${s.follower.epoch}:${c.seq}`;
      const text = JSON.stringify(c);
      if (seen.has(key) && seen.get(key) !== text) throw new Error(`seq ${key} seen with two contents: ${seen.get(key)} and ${text}`);
      seen.set(key, text);
      if (c.op === 'remove') removesSeen.push(c);
    });
  };
  const visibleTruth = (s: Stack): Map<string, Props> => {
    const hidden = new Set(s.sim.control.hiddenUsers());
    return subscribedUsers(s.sim.control.users().filter((u) => !hidden.has(u.configurationId.id)));
  };
  const held = (s: Stack) => s.reader.scard(s.keys.held);
  const removals = (s: Stack, ...args: string[]) =>
    runCli(['removals', ...args], { ICWATCH_REDIS_URL: s.redis.url, ICWATCH_REDIS_KEY_PREFIX: s.prefix }, 60000);
  const scrape = async (s: Stack) => metricValue((await s.icwatch.get('/metrics')).text, 'icwatch_removals_held');

  /** The WebSocket client holds exactly the mirror at meta seq, the stream has no gap, and the mirror is `expected`. */
  const settled = async (s: Stack, expected: Map<string, Props>, what: string) => {
    let last = '';
    await waitFor(
      what,
      async () => {
        const [mirror, { seq, problem }] = [await s.mirror(), await s.seqProblems()];
        if (problem) return void (last = problem);
        const d1 = difference(expected, mirror);
        if (d1) return void (last = `mirror: ${d1}`);
        if (s.follower.seq !== seq) return void (last = `client at seq ${s.follower.seq}, mirror at ${seq}`);
        const d2 = difference(await s.followedMirror(), s.follower.users);
        return d2 ? void (last = `client vs mirror: ${d2}`) : true;
      },
      60000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last difference: ${last}`);
    });
  };

  after(async () => {
    await stack?.close();
    killAll();
  });

  describe('a full replace that removes 80 % of 1,000 users', () => {
    let all: string[];
    before(async () => {
      stack = await Stack.start({ users: 1000, seed: 23 });
      watch(stack);
      await stack.converged(90000);
      all = stack.sim.control.users().map((u) => u.configurationId.id);
    });

    it('removes nobody: icwatch_removals_held 800, /readyz 200 saying so, the status page too, an error line with the counts', async () => {
      stack.sim.control.hideUsers(all.slice(200));
      stack.sim.control.forceFullReplace();
      await waitFor('800 removals held', async () => (await held(stack)) === 800, 60000, 200);
      expect(await stack.reader.scard(stack.keys.ids)).to.equal(1000);
      await settled(stack, stack.truth(), 'the client to hold the unchanged mirror');
      expect(removesSeen).to.deep.equal([]);
      await waitFor('the gauge', async () => (await scrape(stack)) === 800, 10000, 200);

      const ready = await stack.icwatch.get('/readyz');
      expect(ready.status).to.equal(200);
      const body = JSON.parse(ready.text) as { status: string; removalsHeld: number; held: string };
      expect(body).to.include({ status: 'ready', removalsHeld: 800 });
      expect(body.held).to.match(/^800 removals held/);
      const status = (await (await fetch(`${stack.icwatch.base}/v1/status`, { headers: auth })).json()) as { removalsHeld: number };
      expect(status.removalsHeld).to.equal(800);
      // The page itself holds no data when tokens guard the reads (README "Security"): its script shows this status.

      const line = stack
        .output()
        .split('\n')
        .find((l) => l.includes('held 800 removals'));
      expect(line, 'an error line about the hold').to.not.equal(undefined);
      expect(JSON.parse(line!)).to.include({ level: 'error', removals: 800, users: 1000, held: 800 });
      expect(METRIC_NAMES).to.include('icwatch_removals_held');
    });

    it('icwatch removals --list prints the held ids and why', async () => {
      const listed = await removals(stack, '--list');
      expect(listed.code).to.equal(0);
      expect(listed.stdout).to.match(/^800 removals held since /);
      expect(listed.stdout).to.include("why: a full replace would remove 800 of the mirror's 1000 users");
      expect(listed.stdout.trim().split('\n').slice(-800)).to.deep.equal(all.slice(200).sort());
    });

    it('a following full replace with the users back clears the hold by itself: gauge 0, {P}:held gone', async () => {
      stack.sim.control.showUsers();
      stack.sim.control.forceFullReplace();
      await waitFor('the hold to clear', async () => (await stack.reader.exists(stack.keys.held, stack.keys.heldInfo)) === 0, 60000, 200);
      await waitFor('the gauge at 0', async () => (await scrape(stack)) === 0, 10000, 200);
      const ready = JSON.parse((await stack.icwatch.get('/readyz')).text) as Record<string, unknown>;
      expect(ready).to.not.have.property('removalsHeld');
      await stack.converged(60000);
      expect(removesSeen).to.deep.equal([]);
    });

    it('icwatch removals --apply has the leader remove them with ordinary remove entries, seq gap-free; the client sees the removes', async () => {
      stack.sim.control.hideUsers(all.slice(200));
      stack.sim.control.forceFullReplace();
      await waitFor('800 removals held again', async () => (await held(stack)) === 800, 60000, 200);
      const before = Number(await stack.reader.hget(stack.keys.meta, 'seq'));
      const applied = await removals(stack, '--apply');
      expect(applied.stderr).to.equal('');
      expect(applied.code).to.equal(0);
      expect(applied.stdout).to.include('applied: the leader removed the 800 held users');
      const entries = await stack.reader.xrange(stack.keys.changes, `${before + 1}-0`, '+');
      expect(entries.map(([id]) => id)).to.deep.equal(Array.from({ length: 800 }, (_, i) => `${before + 1 + i}-0`));
      const ops = entries.map(([, f]) => [f[f.indexOf('op') + 1], f[f.indexOf('id') + 1]]);
      expect(ops.every(([op]) => op === 'remove')).to.equal(true);
      expect(ops.map(([, id]) => id).sort()).to.deep.equal(all.slice(200).sort());
      await settled(stack, visibleTruth(stack), 'the mirror and the client to hold the 200 users left');
      expect((await stack.seqProblems()).problem).to.equal(undefined);
      expect(removesSeen.map((c) => c.id).sort()).to.deep.equal(all.slice(200).sort());
      expect(removesSeen.map((c) => c.seq)).to.deep.equal(Array.from({ length: 800 }, (_, i) => before + 1 + i));
      expect(await stack.reader.exists(stack.keys.held, stack.keys.heldInfo)).to.equal(0);
      await waitFor('the gauge at 0', async () => (await scrape(stack)) === 0, 10000, 200);
    });

    it('icwatch removals --discard drops a hold and keeps the users as they are', async () => {
      stack.sim.control.showUsers();
      stack.sim.control.forceFullReplace();
      await stack.converged(60000);
      // The statuses of the users shown again come with the statuses replace after the subscription's PUT, which may
      // land after the users converged: their entries would move seq while the hold is discarded.
      await everyStatusMirrored(stack.icwatch, all.length);
      stack.sim.control.hideUsers(all.slice(200));
      stack.sim.control.forceFullReplace();
      await waitFor('800 removals held again', async () => (await held(stack)) === 800, 60000, 200);
      const seq = await stack.reader.hget(stack.keys.meta, 'seq');
      const removes = removesSeen.length;
      const discarded = await removals(stack, '--discard');
      expect(discarded.code).to.equal(0);
      expect(discarded.stdout).to.include('discarded: the 800 users stay in the mirror');
      expect(await stack.reader.exists(stack.keys.held, stack.keys.heldInfo)).to.equal(0);
      expect(await stack.reader.hget(stack.keys.meta, 'seq')).to.equal(seq);
      await settled(stack, stack.truth(), 'the client to hold every user still');
      expect(removesSeen.length).to.equal(removes);
      await waitFor('the gauge at 0', async () => (await scrape(stack)) === 0, 10000, 200);
      expect((await removals(stack, '--list')).stdout).to.equal('no removals are held\n');
      stack.sim.control.showUsers();
    });

    after(async () => {
      await stack?.close();
    });
  });

  describe('a delta removing 600 of 5,000 at once', () => {
    let all: string[];
    before(async () => {
      seen.clear();
      removesSeen.length = 0;
      stack = await Stack.start({ users: 5000, seed: 29 });
      watch(stack);
      await stack.converged(120000);
      all = stack.sim.control.users().map((u) => u.configurationId.id);
    });

    it('is held: nobody removed, the rest of the stream goes on', async () => {
      const truth = stack.truth();
      for (const id of all.slice(1000, 1600)) heldUsers.set(id, truth.get(id)!);
      stack.sim.control.removeUsers(all.slice(1000, 1600));
      await waitFor('600 removals held', async () => (await held(stack)) === 600, 60000, 200);
      expect(await stack.reader.hgetall(stack.keys.heldInfo)).to.include({ origin: 'delta', removals: '600', users: '5000', count: '600' });
      stack.sim.control.setProperties(all[0]!, { statusText: 'After the hold' });
      await settled(stack, mirrorWithHeld(stack), 'the change after the hold');
      expect(removesSeen).to.deep.equal([]);
      expect(await scrape(stack)).to.equal(600);
    });

    it('with mirror.deleteGuard.maxRemovals 0 (restarted) nothing is held: the next mass delta is applied', async () => {
      stack.env.ICWATCH_MIRROR_DELETE_GUARD_MAX_REMOVALS = '0';
      await stack.restartIcwatch('SIGTERM');
      await waitFor('the restarted leader to say the hold it found', async () => (await scrape(stack)) === 600, 60000, 200);
      stack.sim.control.removeUsers(all.slice(2000, 2600));
      await waitFor('600 removes', () => removesSeen.length === 600, 60000, 200);
      expect(await held(stack)).to.equal(600);
      await settled(stack, mirrorWithHeld(stack), 'the client to hold the mirror');
      expect(await stack.reader.scard(stack.keys.ids)).to.equal(4400);
    });
  });

  /** The users whose removal is held, as they were: they stay in the mirror so. */
  const heldUsers = new Map<string, Props>();
  /** The simulator's users plus the held ones. */
  function mirrorWithHeld(s: Stack): Map<string, Props> {
    const truth = s.truth();
    for (const [id, props] of heldUsers) truth.set(id, props);
    return truth;
  }
});
