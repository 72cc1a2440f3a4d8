/**
 * Presence end to end, in-process: the ICWS simulator, the real stages (feed → pipeline → writer) and the real
 * Redis. The mirror's statuses equal the simulator's after the first sync and after churn; the user statuses
 * subscription always gets the whole list of the mirror's ids; a new session re-subscribes and converges; a
 * removed user's status is gone; the change stream carries op status entries with the same gap-free seq.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { mirrorKeys, type MirrorKeys } from '../../src/mirror/keys.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { UserStatus } from '../../src/icws/user-statuses.js';
import { WORKGROUP_IDS } from '../../src/simulator/users.js';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { streamSeqs } from '../helpers/mirror.js';
import { startPresenceDaemon, type PresenceDaemon } from './harness.js';

const USERS = 300;

/** What the mirror should hold of a status: every property the simulator has set, JSON-decoded. */
function expectedStatus(status: UserStatus): Record<string, unknown> {
  const { userId: _userId, ...props } = status;
  return props;
}

async function mirroredStatuses(redis: Redis, keys: MirrorKeys): Promise<Map<string, Record<string, unknown>>> {
  const ids = await redis.smembers(keys.ids);
  const pipe = redis.pipeline();
  for (const id of ids) pipe.hgetall(keys.status(id));
  const replies = (await pipe.exec()) ?? [];
  const out = new Map<string, Record<string, unknown>>();
  ids.forEach((id, i) => {
    const hash = replies[i]![1] as Record<string, string>;
    if (Object.keys(hash).length) out.set(id, Object.fromEntries(Object.entries(hash).map(([k, v]) => [k, JSON.parse(v) as unknown])));
  });
  return out;
}

/** The first difference between the simulator's statuses (of the users it has) and the mirror's, or ''. */
async function statusDifference(sim: Simulator, redis: Redis, keys: MirrorKeys): Promise<string> {
  const mirrored = await mirroredStatuses(redis, keys);
  const truth = new Map(sim.control.statuses().map((s) => [s.userId, expectedStatus(s)]));
  const directory = new Set(sim.control.users().map((u) => u.configurationId.id));
  for (const [id, status] of truth) {
    if (!directory.has(id)) continue;
    const got = mirrored.get(id);
    if (JSON.stringify(got) !== JSON.stringify(status) && !sameProps(got, status))
      return `${id}: mirror ${JSON.stringify(got)}, simulator ${JSON.stringify(status)}`;
  }
  for (const id of mirrored.keys()) if (!directory.has(id)) return `${id} has a status in the mirror but is not in the directory`;
  return '';
}

function sameProps(a: Record<string, unknown> | undefined, b: Record<string, unknown>): boolean {
  if (!a) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  return true;
}

describe('presence end to end (simulator → mirror)', function () {
  this.timeout(60000);
  let sim: Simulator;
  let redis: Redis;
  let prefix: string;
  let icwatch: PresenceDaemon;

  before(async () => {
    sim = await startSimulator({ users: USERS, seed: 7 });
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('presence');
    icwatch = await startPresenceDaemon(sim, prefix, (config) => (config.presence.metricWorkgroups = [...WORKGROUP_IDS]));
  });
  after(async () => {
    await icwatch?.daemon.stop('test');
    await sim?.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  const keys = () => mirrorKeys(prefix);
  const converged = (what: string) => waitFor(what, async () => ((await statusDifference(sim, redis, keys())) === '' ? true : undefined), 20000);

  it('mirrors every user status and the catalogue after the first sync; the subscription lists every mirrored id', async () => {
    await waitFor('the users', async () => ((await redis.scard(keys().ids)) === USERS ? true : undefined), 20000);
    await converged('the statuses after the first sync');
    expect(await redis.hlen(keys().statuses)).to.be.greaterThan(10);
    const catalogue = await redis.hgetall(keys().statuses);
    expect(JSON.parse(catalogue['Available']!)).to.include({ groupTag: 'AVAILABLE' });
    const puts = sim.control.statusSubscriptionPuts().filter((p) => p.status === 200);
    expect(puts.length).to.be.greaterThan(0);
    const ids = (await redis.smembers(keys().ids)).sort();
    expect([...puts.at(-1)!.userIds].sort()).to.deep.equal(ids);
    const entries = await redis.xrange(keys().changes, '-', '+');
    expect(entries.some(([, f]) => f[f.indexOf('op') + 1] === 'status')).to.equal(true);
    const seqs = await streamSeqs(redis, keys());
    seqs.forEach((s, i) => i && expect(s).to.equal(seqs[i - 1]! + 1));
    expect(await metricValue('icwatch_presence_users')).to.equal((await mirroredStatuses(redis, keys())).size);
  });

  const metricValue = (name: string, labels?: string) => icwatch.metricValue(name, labels);

  it('follows status churn exactly, with available derived from the catalogue, case-insensitively', async () => {
    sim.control.statusChurn(400);
    await converged('the statuses after churn');
    const [agent] = sim.control.users();
    const id = agent!.configurationId.id;
    sim.control.setStatus(id, { statusId: 'available', loggedIn: true, onPhone: false });
    await converged('a status set in lower case');
    const entries = await redis.xrevrange(keys().changes, '+', '-', 'COUNT', 50);
    const mine = entries
      .map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])))
      .find((e) => e.id === id && e.op === 'status');
    expect(mine, 'the status entry of the change').to.not.equal(undefined);
    expect(JSON.parse(mine!.data)).to.include({ statusId: 'available' });
    sim.control.setStatus(id, { onPhone: true });
    await converged('on the phone');
    const again = await redis.xrevrange(keys().changes, '+', '-', 'COUNT', 5);
    const last = again.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]]))).find((e) => e.id === id);
    expect(JSON.parse(last!.data)).to.deep.equal({ onPhone: true, onPhoneChanged: JSON.parse(last!.data).onPhoneChanged, available: false });
  });

  it('keeps the subscription equal to the mirror as users come and go (always the whole list); a removed user loses its status', async () => {
    const before = sim.control.statusSubscriptionPuts().length;
    const [gone] = sim.control.users().slice(-1);
    const goneId = gone!.configurationId.id;
    expect(await redis.exists(keys().status(goneId))).to.equal(1);
    sim.control.removeUser(goneId);
    await waitFor('the removal', async () => ((await redis.exists(keys().user(goneId))) === 0 ? true : undefined));
    expect(await redis.exists(keys().status(goneId))).to.equal(0);
    const newcomer = structuredClone(sim.control.users()[0]!);
    newcomer.configurationId = { ...newcomer.configurationId, id: 'newcomer', displayName: 'New Comer' };
    sim.control.addUser(newcomer);
    await waitFor('a PUT with the newcomer', () =>
      sim.control
        .statusSubscriptionPuts()
        .slice(before)
        .find((p) => p.userIds.includes('newcomer')),
    );
    await converged('the newcomer has a status');
    const puts = sim.control.statusSubscriptionPuts().slice(before);
    const ids = (await redis.smembers(keys().ids)).sort();
    expect([...puts.at(-1)!.userIds].sort()).to.deep.equal(ids);
    for (const put of puts) expect(put.userIds.length, 'every PUT carries the whole list').to.be.greaterThan(USERS - 5);
  });

  it('re-subscribes after a new session and converges on what changed meanwhile', async () => {
    const sessionsBefore = new Set(sim.control.statusSubscriptionPuts().map((p) => p.sessionId));
    sim.control.expireSessions();
    sim.control.statusChurn(100);
    await waitFor('a PUT in a new session', () => sim.control.statusSubscriptionPuts().find((p) => !sessionsBefore.has(p.sessionId) && p.status === 200));
    await converged('the statuses after the new session');
  });

  it('counts the available agents of the workgroups presence.metricWorkgroups lists, through churn of users and statuses', async () => {
    const truth = (workgroup: string) => {
      const statuses = new Map(sim.control.statuses().map((s) => [s.userId, s]));
      return sim.control.users().filter((u) => {
        const s = statuses.get(u.configurationId.id);
        const member = ((u.workgroups as { id: string }[] | undefined) ?? []).some((w) => w.id === workgroup);
        return (
          member && s?.loggedIn === true && s.onPhone !== true && ['available', 'available, no acd', 'available, remote'].includes(s.statusId.toLowerCase())
        );
      }).length;
    };
    const gaugesMatch = async () => {
      for (const workgroup of WORKGROUP_IDS)
        if ((await metricValue('icwatch_available_agents', `{workgroup="${workgroup}"}`)) !== truth(workgroup)) return undefined;
      return true;
    };
    await waitFor('every gauge equals the truth', gaugesMatch, 10000);
    expect(WORKGROUP_IDS.map(truth).some((n) => n > 0)).to.equal(true);
    for (let round = 0; round < 3; round++) {
      sim.control.statusChurn(150);
      // User churn moves users between workgroups, adds and removes them.
      sim.control.churn(30);
      await converged(`the statuses after round ${round}`);
      await waitFor(`every gauge equals the truth after round ${round}`, gaugesMatch, 10000);
    }
  });

  const raw = (message: unknown) => sim.control.injectRaw(JSON.stringify(message));
  const USERS_MESSAGE = 'urn:inin.com:configuration.people:usersMessage';
  const USER_STATUS_MESSAGE = 'urn:inin.com:status:userStatusMessage';

  it('leaves out an id the server answers 404 for, and follows everyone else', async () => {
    const before = sim.control.statusSubscriptionPuts().length;
    // A user the mirror holds and the server does not know (as when ICWS removed it before the mirror heard).
    raw({ __type: USERS_MESSAGE, isDelta: true, added: [{ configurationId: { id: 'ghost', displayName: 'Ghost' }, extension: '9999' }] });
    const ok = await waitFor('a PUT refused, then one without the ghost', () => {
      const puts = sim.control.statusSubscriptionPuts().slice(before);
      const refused = puts.findIndex((p) => p.status === 404 && p.userIds.includes('ghost'));
      return refused >= 0 ? puts.slice(refused + 1).find((p) => p.status === 200) : undefined;
    });
    expect(ok.userIds).to.not.include('ghost');
    expect(ok.userIds.length).to.equal((await redis.scard(keys().ids)) - 1);
    expect(icwatch.log()).to.include('the server does not know user ghost');
    sim.control.statusChurn(50);
    await converged('the statuses with the ghost left out');
  });

  it('keeps a status that arrives before its user and writes it with the user; an unknown statusId is kept and counted', async () => {
    const unknownBefore = await metricValue('icwatch_unknown_status_ids_total');
    raw({ __type: USER_STATUS_MESSAGE, isDelta: true, userStatusList: [{ userId: 'latecomer', statusId: 'Lunar Walk', loggedIn: true, onPhone: false }] });
    await new Promise((r) => setTimeout(r, 300));
    expect(await redis.exists(keys().status('latecomer')), 'no status without its user').to.equal(0);
    raw({ __type: USERS_MESSAGE, isDelta: true, added: [{ configurationId: { id: 'latecomer', displayName: 'Late Comer' }, extension: '4242' }] });
    await waitFor('the status with its user', async () => ((await redis.exists(keys().status('latecomer'))) === 1 ? true : undefined));
    expect(await redis.hgetall(keys().status('latecomer'))).to.deep.equal({ statusId: '"Lunar Walk"', loggedIn: 'true', onPhone: 'false' });
    expect(await metricValue('icwatch_unknown_status_ids_total')).to.equal(unknownBefore + 1);
    // In the stream, the user's entry comes first, then its status, not available (the catalogue does not know it).
    const entries = (await redis.xrevrange(keys().changes, '+', '-', 'COUNT', 2)).reverse().map(([, f]) => [f[f.indexOf('op') + 1], f[f.indexOf('id') + 1]]);
    expect(entries).to.deep.equal([
      ['upsert', 'latecomer'],
      ['status', 'latecomer'],
    ]);
    raw({ __type: USERS_MESSAGE, isDelta: true, removed: ['latecomer', 'ghost'] });
    await waitFor('the latecomer gone with its status', async () => ((await redis.exists(keys().status('latecomer'))) === 0 ? true : undefined));
  });

  it('counts a malformed userStatusMessage, skips it and asks the statuses afresh in the same session', async () => {
    const malformed = await metricValue('icwatch_messages_total', '{type="malformed",delta=""}');
    const puts = sim.control.statusSubscriptionPuts().length;
    const sessions = sim.control.sessions().length;
    raw({
      __type: USER_STATUS_MESSAGE,
      isDelta: true,
      userStatusList: [{ userId: sim.control.users()[1]!.configurationId.id, statusId: 'Available', loggedIn: 'yes' }],
    });
    await waitFor('a fresh PUT', () => (sim.control.statusSubscriptionPuts().length > puts ? true : undefined));
    expect(await metricValue('icwatch_messages_total', '{type="malformed",delta=""}')).to.equal(malformed + 1);
    expect(icwatch.log()).to.match(
      /malformed ICWS message skipped: userStatusMessage: .*loggedIn is \\"yes\\", expected true or false; asking the statuses afresh/,
    );
    expect(sim.control.sessions().length).to.equal(sessions);
    await converged('the statuses after the resync');
  });

  it('writes {available} entries for the users a catalogue change moves in or out of an available group', async () => {
    const statuses = sim.control.statuses();
    const onBreak = statuses.filter((s) => s.loggedIn === true && s.onPhone !== true && s.statusId.toLowerCase() === 'at lunch');
    for (const s of statuses.filter((x) => x.loggedIn === true && x.onPhone !== true).slice(0, 3)) sim.control.setStatus(s.userId, { statusId: 'At Lunch' });
    await converged('three agents at lunch');
    const atLunch = sim.control.statuses().filter((s) => s.loggedIn === true && s.onPhone !== true && s.statusId.toLowerCase() === 'at lunch');
    expect(atLunch.length).to.be.at.least(Math.max(3, onBreak.length));
    const lunch = (await redis.hgetall(keys().statuses))['At Lunch']!;
    const seq = Number(await redis.hget(keys().meta, 'seq'));
    sim.control.setStatusMessage({ ...(JSON.parse(lunch) as Record<string, unknown>), groupTag: 'AVAILABLE' } as never);
    await waitFor('the catalogue changed', async () =>
      JSON.parse((await redis.hgetall(keys().statuses))['At Lunch']!).groupTag === 'AVAILABLE' ? true : undefined,
    );
    const entries = await redis.xrange(keys().changes, String(seq + 1), '+');
    const flipped = entries.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])));
    expect(flipped.map((e) => e.id).sort()).to.deep.equal(atLunch.map((s) => s.userId).sort());
    for (const e of flipped) expect(e).to.include({ op: 'status', data: '{"available":true}' });
  });
});
