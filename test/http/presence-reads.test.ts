/**
 * HTTP reads with presence (README "HTTP reads", docs/presence.md "For readers"): users carry their status,
 * GET /v1/workgroups counts agents at one seq (compared with counts made here from the test's own truth),
 * GET /v1/workgroups/<id> lists them, GET /v1/statuses is the catalogue; the door, the refusals, and presence off.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { CATALOGUE, PresenceLayout } from '../helpers/presence-layout.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { LayoutWriter, plain, seeded, type Props } from '../fanout/layout.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { TokenSpec } from '../../src/fanout/access.js';
import { expectBadParameters, get, startReadsServer, type ReadsServer } from './harness.js';

const PRESENCE = { enabled: true, availableGroups: ['AVAILABLE'] };
const WORKGROUPS = ['Billing', 'Sales', 'Support', 'Tier 2'];
const STATUS_IDS = CATALOGUE.map((e) => e.statusId);
const asMap = (users: ({ id: string } & Props)[]) => new Map(users.map(({ id, ...p }) => [id, p]));

/** Workgroup figures counted from the test's truth: each user's `workgroups` ids and its status. */
function expectedFigures(users: Map<string, Props>) {
  const out = new Map<string, { id: string; agents: number; loggedIn: number; available: number; onPhone: number }>();
  for (const props of users.values()) {
    for (const { id } of (props.workgroups as { id: string }[] | undefined) ?? []) {
      const w = out.get(id) ?? { id, agents: 0, loggedIn: 0, available: 0, onPhone: 0 };
      const status = props.status as Props | undefined;
      w.agents++;
      if (status?.loggedIn === true) w.loggedIn++;
      if (status?.available === true) w.available++;
      if (status?.onPhone === true) w.onPhone++;
      out.set(id, w);
    }
  }
  return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** 30 users in 0 to 3 workgroups each, 24 of them with a status. */
async function seed(presence: PresenceLayout, rand: () => number): Promise<void> {
  await presence.setCatalogue(CATALOGUE);
  for (let i = 0; i < 30; i++) {
    const groups = WORKGROUPS.filter(() => rand() < 0.4);
    await presence.upsert(`u${i}`, { extension: String(1000 + i), workgroups: groups.map((id) => ({ id, displayName: `${id} team` })) });
    if (i < 24) await presence.setStatus(`u${i}`, randomStatus(rand));
  }
}

const randomStatus = (rand: () => number): Props => ({
  statusId: STATUS_IDS[Math.floor(rand() * STATUS_IDS.length)],
  loggedIn: rand() < 0.7,
  onPhone: rand() < 0.3,
});

describe('HTTP reads with presence', function () {
  let redis: Redis;
  let prefix: string;
  let presence: PresenceLayout;
  let s: ReadsServer;

  beforeEach(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('http-presence');
    const writer = new LayoutWriter(redis, prefix);
    await writer.init();
    presence = new PresenceLayout(redis, writer);
    await seed(presence, seeded(5));
    s = await startReadsServer(redis, prefix, [], {}, {}, DEFAULTS.subscription.properties, PRESENCE);
  });
  afterEach(async () => {
    await s.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('GET /v1/users and /v1/users/<id> carry each user status with available; props=status selects it', async () => {
    const all = await get(`${s.base}/v1/users`);
    expect(all.json.seq).to.equal(presence.writer.seq);
    expect(plain(asMap(all.json.users))).to.deep.equal(plain(presence.users()));
    const withStatus = [...presence.users()].find(([, p]) => (p.status as Props | undefined)?.available === true)!;
    const one = await get(`${s.base}/v1/users/${withStatus[0]}`);
    expect(one.json).to.deep.equal({ id: withStatus[0], ...withStatus[1] });
    expect(one.headers['x-icwatch-seq']).to.equal(String(presence.writer.seq));
    expect((await get(`${s.base}/v1/users/u27`)).json, 'no status').to.not.have.property('status');
    const narrow = await get(`${s.base}/v1/users/${withStatus[0]}?props=status`);
    expect(narrow.json).to.deep.equal({ id: withStatus[0], status: withStatus[1].status });
    const some = await get(`${s.base}/v1/users?ids=u0,u27&props=status`);
    expect(some.json.users).to.deep.equal([{ id: 'u0', status: presence.users().get('u0')!.status }, { id: 'u27' }]);

    // the view follows status entries: a status change, one that goes away
    await presence.setStatus('u0', { statusId: 'Available', loggedIn: true, onPhone: false, notes: 'here' });
    await presence.clearStatus('u1');
    const after = await get(`${s.base}/v1/users`);
    expect(after.json.seq).to.equal(presence.writer.seq);
    expect(plain(asMap(after.json.users))).to.deep.equal(plain(presence.users()));
    expect(asMap(after.json.users).get('u1')).to.not.have.property('status');
  });

  it('GET /v1/workgroups counts agents, logged in, available and on the phone at one seq, also while statuses change', async () => {
    const first = await get(`${s.base}/v1/workgroups`);
    expect(first.status).to.equal(200);
    expect(first.json).to.deep.equal({ epoch: presence.writer.epoch, seq: presence.writer.seq, workgroups: expectedFigures(presence.users()) });
    expect(first.json.workgroups.map((w: { id: string }) => w.id)).to.deep.equal(WORKGROUPS);
    expect(first.json.workgroups.some((w: { available: number }) => w.available > 0)).to.equal(true);
    expect(first.headers.etag).to.equal(`"${presence.writer.epoch}:${presence.writer.seq}"`);
    expect((await get(`${s.base}/v1/workgroups`, { 'if-none-match': first.headers.etag! })).status).to.equal(304);

    const rand = seeded(9);
    let done = false;
    const storm = (async () => {
      for (let i = 0; i < 60; i++) {
        const id = `u${Math.floor(rand() * 30)}`;
        if (rand() < 0.8) await presence.setStatus(id, randomStatus(rand));
        else await presence.upsert(id, { workgroups: WORKGROUPS.filter(() => rand() < 0.5).map((w) => ({ id: w, displayName: w })) });
      }
      done = true;
    })();
    const seen = new Set<number>();
    while (!done) {
      const a = await get(`${s.base}/v1/workgroups`);
      seen.add(a.json.seq);
      expect(a.json.workgroups, `the figures at seq ${a.json.seq}`).to.deep.equal(expectedFigures(presence.history.get(a.json.seq)!));
    }
    await storm;
    expect(seen.size, 'reads at several seqs').to.be.greaterThan(3);
    const last = await get(`${s.base}/v1/workgroups`);
    expect(last.json.workgroups).to.deep.equal(expectedFigures(presence.users()));
  });

  it('GET /v1/workgroups/<id> lists its agents with their status; 404 when nobody belongs to it', async () => {
    const users = presence.users();
    const members = (w: string) => [...users].filter(([, p]) => (p.workgroups as { id: string }[]).some((g) => g.id === w));
    const tier2 = await get(`${s.base}/v1/workgroups/Tier%202`);
    expect(tier2.status).to.equal(200);
    expect(tier2.json).to.include({ epoch: presence.writer.epoch, seq: presence.writer.seq, id: 'Tier 2' });
    expect(plain(asMap(tier2.json.agents))).to.deep.equal(plain(new Map(members('Tier 2'))));
    expect(tier2.json.agents.some((a: Props) => 'status' in a)).to.equal(true);
    const narrow = await get(`${s.base}/v1/workgroups/Sales?props=status`);
    expect(narrow.json.agents).to.have.length(members('Sales').length);
    expect(narrow.json.agents.every((a: Props) => Object.keys(a).every((k) => k === 'id' || k === 'status'))).to.equal(true);

    const missing = await get(`${s.base}/v1/workgroups/Nobody`);
    expect(missing.status).to.equal(404);
    expect(missing.json.error).to.include('Nobody');
    expect(missing.headers['x-icwatch-seq']).to.equal(String(presence.writer.seq));
  });

  it('GET /v1/statuses answers the catalogue', async () => {
    const a = await get(`${s.base}/v1/statuses`);
    expect(a.status).to.equal(200);
    expect(a.json).to.deep.equal({ statuses: [...CATALOGUE].sort((x, y) => (x.statusId < y.statusId ? -1 : 1)) });
  });

  it('answers 400 naming the problem for bad parameters', async () => {
    const cases: [string, string][] = [
      ['/v1/workgroups?props=status', 'props'],
      ['/v1/workgroups?since=3', 'since'],
      ['/v1/workgroups/Sales?props=nonsense', 'props'],
      ['/v1/workgroups/Sales?ids=u1', 'ids'],
      ['/v1/workgroups/%E0%A4%A', 'id'],
      ['/v1/statuses?props=status', 'props'],
    ];
    await expectBadParameters(s.base, cases);
  });
});

describe('HTTP presence reads with tokens, and presence off', function () {
  let redis: Redis;
  let prefix: string;
  let presence: PresenceLayout;
  const servers: ReadsServer[] = [];
  const tokens: TokenSpec[] = [
    'all',
    { token: 'directory', props: ['extension'] },
    { token: 'members', props: ['extension', 'workgroups'] },
    { token: 'presence', props: ['workgroups', 'status'] },
  ];

  before(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('http-presence-door');
    const writer = new LayoutWriter(redis, prefix);
    await writer.init();
    presence = new PresenceLayout(redis, writer);
    await seed(presence, seeded(21));
  });
  after(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('a scoped token reads statuses only when its props list status, workgroups only when they list workgroups', async () => {
    const s = await startReadsServer(redis, prefix, tokens, {}, {}, DEFAULTS.subscription.properties, PRESENCE);
    servers.push(s);
    const as = (token: string, path: string) => get(`${s.base}${path}`, { authorization: `Bearer ${token}` });
    expect((await get(`${s.base}/v1/workgroups`)).status, 'no token').to.equal(401);
    expect((await get(`${s.base}/v1/statuses`)).status, 'no token').to.equal(401);
    expect((await as('all', '/v1/workgroups')).json.workgroups).to.deep.equal(expectedFigures(presence.users()));
    expect((await as('presence', '/v1/workgroups')).status).to.equal(200);
    expect((await as('presence', '/v1/statuses')).status).to.equal(200);

    const noFigures = await as('members', '/v1/workgroups');
    expect(noFigures.status, 'the figures are made of status').to.equal(403);
    expect(noFigures.json.error).to.include('"status"');
    const agents = await as('members', '/v1/workgroups/Sales');
    expect(agents.status).to.equal(200);
    expect(agents.json.agents.some((a: Props) => 'status' in a)).to.equal(false);
    expect((await as('members', '/v1/workgroups/Sales?props=status')).status).to.equal(403);
    expect((await as('directory', '/v1/workgroups/Sales')).status).to.equal(403);
    expect((await as('directory', '/v1/statuses')).status).to.equal(403);
    const users = await as('directory', '/v1/users');
    expect(users.json.users.some((u: Props) => 'status' in u)).to.equal(false);
    expect((await as('directory', '/v1/users?props=status')).status).to.equal(403);
    expect((await as('presence', '/v1/users/u0')).json).to.deep.equal({
      id: 'u0',
      workgroups: presence.users().get('u0')!.workgroups,
      status: presence.users().get('u0')!.status,
    });
  });

  it('presence off: no status anywhere, figures from the users with nobody logged in, and no catalogue', async () => {
    const s = await startReadsServer(redis, prefix, [], {}, {}, DEFAULTS.subscription.properties, { ...PRESENCE, enabled: false });
    servers.push(s);
    const users = await get(`${s.base}/v1/users`);
    expect(plain(asMap(users.json.users))).to.deep.equal(plain(presence.writer.users));
    expect((await get(`${s.base}/v1/users/u0`)).json).to.not.have.property('status');
    const figures = await get(`${s.base}/v1/workgroups`);
    expect(figures.json.workgroups).to.deep.equal(expectedFigures(presence.writer.users));
    expect(figures.json.workgroups.every((w: { loggedIn: number; available: number; onPhone: number }) => w.loggedIn + w.available + w.onPhone === 0)).to.equal(
      true,
    );
    expect((await get(`${s.base}/v1/statuses`)).status).to.equal(404);
    expect((await get(`${s.base}/v1/users?props=status`)).status).to.equal(400);
  });
});
