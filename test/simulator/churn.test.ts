import { expect } from 'chai';
import { generateUsers, startSimulator, type Simulator, type User } from '../../src/simulator/index.js';
import { connect, poll, subscribe } from './raw-client.js';

const withoutDates = (users: User[]) => users.map(({ lastModifiedDate: _l, createdDate: _c, ...rest }) => rest);

describe('simulator: generated users and churn', () => {
  const sims: Simulator[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });
  const start = async (o: Parameters<typeof startSimulator>[0]) => {
    const sim = await startSimulator(o);
    sims.push(sim);
    return sim;
  };

  it('generates the same users for the same seed, other users for another seed, with the shapes of docs/icws.md', () => {
    const a = generateUsers(300, 7);
    expect(generateUsers(300, 7)).to.deep.equal(a);
    expect(generateUsers(300, 8)).not.to.deep.equal(a);
    expect(new Set(a.map((u) => u.configurationId.id)).size).to.equal(300);
    const extensions = a.map((u) => u.extension).filter((e) => e !== undefined);
    expect(new Set(extensions).size).to.equal(extensions.length);
    expect(a.some((u) => u.extension === undefined) && a.some((u) => u.statusText === undefined)).to.equal(true);
    for (const u of a) {
      expect(u.configurationId.uri).to.equal(`/configuration/users/${u.configurationId.id}`);
      expect(u.lastModifiedDate).to.match(/^\d{8}T\d{6}Z$/);
      expect(u.createdDate).to.match(/^\d{8}T\d{6}Z$/);
      expect(Object.values(u).includes(null)).to.equal(false);
      const pip = u.personalInformationProperties as Record<string, unknown>;
      expect(pip).to.include.keys('givenName', 'surname', 'emailAddress', 'departmentName');
      for (const wg of u.workgroups as { id: string; uri: string }[]) expect(wg.uri).to.equal(`/configuration/workgroups/${wg.id}`);
      for (const s of (u.skills as { effectiveValue: { id: { id: string }; proficiency: number; desireToUse: number }[] }).effectiveValue) {
        expect(s.id.id).to.be.a('string');
        expect(s.proficiency).to.be.a('number');
        expect(s.desireToUse).to.be.a('number');
      }
    }
  });

  it('churns the same way for the same seed', async () => {
    const one = await start({ users: 100, seed: 3 });
    const two = await start({ users: 100, seed: 3 });
    one.control.churn(300);
    two.control.churn(300);
    expect(withoutDates(two.control.users())).to.deep.equal(withoutDates(one.control.users()));
    const other = await start({ users: 100, seed: 4 });
    other.control.churn(300);
    expect(withoutDates(other.control.users())).not.to.deep.equal(withoutDates(one.control.users()));
  });

  it('mixes single- and multi-user messages with changes, null-clears, extension moves, adds and removes', async () => {
    const sim = await start({ users: 200, seed: 5 });
    const s = await connect(sim.url);
    await subscribe(s, 'all', {
      configurationIds: ['*'],
      properties: ['extension', 'statusText', 'workgroups', 'skills', 'alias', 'notes', 'lastModifiedDate'],
    });
    await poll(s);
    const before = Date.now();
    sim.control.churn(400);
    const messages = await poll(s);
    const sizes = messages.map((m) => (m.added?.length ?? 0) + (m.changed?.length ?? 0) + (m.removed?.length ?? 0));
    expect(sizes.some((n) => n === 1) && sizes.some((n) => n > 1)).to.equal(true);
    const changed = messages.flatMap((m) => m.changed ?? []);
    expect(changed.filter((u) => 'statusText' in u).length).to.be.greaterThan(changed.length / 3);
    expect(changed.some((u) => Object.values(u).includes(null))).to.equal(true);
    expect(changed.some((u) => 'workgroups' in u) && changed.some((u) => 'skills' in u)).to.equal(true);
    expect(messages.some((m) => m.added) && messages.some((m) => m.removed)).to.equal(true);
    const moves = messages.filter((m) => {
      const ext = (m.changed ?? []).filter((u: Record<string, unknown>) => 'extension' in u);
      return ext.some((u: Record<string, unknown>) => u.extension === null) && ext.some((u: Record<string, unknown>) => typeof u.extension === 'string');
    });
    expect(moves.length).to.be.greaterThan(0);
    const stamp = changed[0].lastModifiedDate as string;
    const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`;
    expect(Date.parse(iso)).to.be.within(before - 1000, Date.now() + 1000);
    // Extensions stay unique through every move.
    const extensions = sim.control
      .users()
      .map((u) => u.extension)
      .filter((e) => e !== undefined);
    expect(new Set(extensions).size).to.equal(extensions.length);
  });

  it('churns in the background at the configured rate', async () => {
    const sim = await start({ users: 50, churnPerSec: 200 });
    const s = await connect(sim.url);
    await subscribe(s, 'all', { configurationIds: ['*'], properties: ['statusText', 'extension'] });
    await poll(s);
    const deadline = Date.now() + 5000;
    let seen = 0;
    while (seen === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      seen = (await poll(s)).length;
    }
    expect(seen).to.be.greaterThan(0);
    sim.control.setChurnRate(0);
  });
});
