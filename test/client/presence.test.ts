/**
 * Presence in icwatch/client (docs/presence.md), against a real WebSocket server speaking the protocol
 * (test/client/protocol-server.ts): the map holds each user's `status` from the snapshot (WebSocket or HTTP), status
 * frames merge into it (`null` deletes a property; a status left without statusId is gone) and emit `status`
 * events, a `remove` takes the status with the user, `available()` and `workgroups()` follow every change, a resume
 * after a dropped connection keeps the statuses and applies the ones it missed, and a reset leaves only what the
 * fresh snapshot holds. The counts, kept user by user, equal a count from scratch after any run of changes.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  IcwatchClient,
  UserDirectory,
  type Change,
  type IcwatchClientOptions,
  type StatusChange,
  type UserProps,
  type UserRecord,
} from '../../src/client/index.js';
import { waitFor } from '../helpers/net.js';
import { ProtocolServer } from './protocol-server.js';

const wg = (...ids: string[]) => ids.map((id) => ({ id, displayName: `${id} team` }));
const available = { statusId: 'Available', loggedIn: true, onPhone: false, available: true };

/** a, b, d in Support; a, c in Sales; e in none. d has no status. */
const USERS: UserRecord[] = [
  { id: 'a', extension: '2001', workgroups: wg('Support', 'Sales'), status: { ...available, statusChanged: '20240301T090000Z' } },
  { id: 'b', extension: '2002', workgroups: wg('Support'), status: { statusId: 'At Lunch', loggedIn: true, onPhone: false, available: false } },
  { id: 'c', extension: '2003', workgroups: wg('Sales'), status: { statusId: 'Available', loggedIn: true, onPhone: true, available: false } },
  { id: 'd', extension: '2004', workgroups: wg('Support') },
  { id: 'e', extension: '2005', status: { ...available } },
];

const recordsOf = (c: IcwatchClient): UserRecord[] => [...c.users].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, props]) => ({ id, ...props }));
const ids = (records: UserRecord[]) => records.map((r) => r.id);

describe('icwatch/client: presence (user statuses and workgroups)', function () {
  this.timeout(20000);
  let server: ProtocolServer;
  const clients: IcwatchClient[] = [];
  const client = (o: Partial<IcwatchClientOptions> = {}) => {
    const c = new IcwatchClient({ url: server.wsUrl, backoff: { initialMs: 50, maxMs: 200, multiplier: 2, jitter: 0 }, ...o });
    c.on('error', () => {});
    clients.push(c);
    return c;
  };
  const inSync = (c: IcwatchClient, what = 'the client at the server seq') =>
    waitFor(what, () => c.seq === server.seq && c.epoch === server.epoch && c.state === 'live');

  beforeEach(async () => {
    server = await ProtocolServer.start(structuredClone(USERS));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    await server.close();
  });

  for (const snapshot of ['websocket', 'http'] as const) {
    it(`holds each user's status from the ${snapshot} snapshot, and counts the workgroups`, async () => {
      server.upsert('b', { title: 'Lead' }); // seq 1: the snapshot is not at 0
      const c = client({ snapshot, url: snapshot === 'http' ? server.base : server.wsUrl }).start();
      await inSync(c);
      expect(c.counts[snapshot === 'http' ? 'http' : 'snapshot']).to.be.greaterThan(0);
      expect(recordsOf(c)).to.deep.equal(server.records());
      expect(c.get('a')?.status).to.deep.equal(USERS[0]!.status);
      expect(c.get('d')).to.not.have.property('status');
      expect(c.workgroups()).to.deep.equal([
        { id: 'Sales', agents: 2, loggedIn: 2, available: 1, onPhone: 1 },
        { id: 'Support', agents: 3, loggedIn: 2, available: 1, onPhone: 0 },
      ]);
      expect(ids(c.available('Support'))).to.deep.equal(['a']);
      expect(c.available('Support')[0]).to.deep.include({ id: 'a', extension: '2001' });
      expect(ids(c.available('Sales'))).to.deep.equal(['a']);
      expect(c.available('Nobody')).to.deep.equal([]);
    });
  }

  it('merges status frames (null deletes a property), emits status events, and keeps available() and workgroups() current', async () => {
    const c = client().start();
    await inSync(c);
    const events: StatusChange[] = [];
    const changes: Change[] = [];
    const gaps: number[][] = [];
    c.on('status', (s) => events.push(structuredClone(s)));
    c.on('change', (ch) => changes.push(ch));
    c.on('gap', (expected, got) => gaps.push([expected, got]));
    const base = server.seq;

    server.status('b', { statusId: 'Available', statusChanged: '20240301T120000Z', available: true }); // back from lunch
    await inSync(c);
    expect(events).to.deep.equal([
      {
        seq: base + 1,
        id: 'b',
        data: { statusId: 'Available', statusChanged: '20240301T120000Z', available: true },
        status: { statusId: 'Available', loggedIn: true, onPhone: false, available: true, statusChanged: '20240301T120000Z' },
      },
    ]);
    expect(c.get('b')?.status).to.deep.equal(events[0]!.status);
    expect(ids(c.available('Support'))).to.deep.equal(['a', 'b']);
    expect(c.workgroups().find((w) => w.id === 'Support')).to.deep.equal({ id: 'Support', agents: 3, loggedIn: 2, available: 2, onPhone: 0 });

    server.status('a', { notes: 'back at 3' });
    server.status('a', { notes: null });
    server.status('c', { onPhone: false, onPhoneChanged: '20240301T120100Z', available: true }); // the call ended
    await inSync(c);
    expect(c.get('a')?.status).to.deep.equal(USERS[0]!.status);
    expect(events.slice(1).map((e) => [e.seq, e.id, e.status?.notes])).to.deep.equal([
      [base + 2, 'a', 'back at 3'],
      [base + 3, 'a', undefined],
      [base + 4, 'c', undefined],
    ]);
    expect(c.workgroups().find((w) => w.id === 'Sales')).to.deep.equal({ id: 'Sales', agents: 2, loggedIn: 2, available: 2, onPhone: 0 });
    expect(ids(c.available('Sales'))).to.deep.equal(['a', 'c']);

    // A status that goes away: every property it had set cleared, available false (docs/presence.md).
    server.status('b', { statusId: null, loggedIn: null, onPhone: null, statusChanged: null, available: false });
    await inSync(c);
    expect(events.at(-1)).to.deep.include({ id: 'b', status: undefined });
    expect(c.get('b')).to.not.have.property('status');
    expect(c.get('b')).to.deep.include({ extension: '2002' });
    expect(c.workgroups().find((w) => w.id === 'Support')).to.deep.equal({ id: 'Support', agents: 3, loggedIn: 1, available: 1, onPhone: 0 });

    // A user without a status gets one; then moves workgroup (an upsert): the counts follow both.
    server.status('d', { statusId: 'Follow Up', loggedIn: true, onPhone: false, available: false });
    server.upsert('d', { workgroups: wg('Sales') });
    await inSync(c);
    expect(c.get('d')).to.deep.include({ status: { statusId: 'Follow Up', loggedIn: true, onPhone: false, available: false } });
    expect(c.workgroups()).to.deep.equal([
      { id: 'Sales', agents: 3, loggedIn: 3, available: 2, onPhone: 0 },
      { id: 'Support', agents: 2, loggedIn: 1, available: 1, onPhone: 0 },
    ]);

    // A removed user takes its status with it.
    server.remove('a');
    await inSync(c);
    expect(c.get('a')).to.equal(undefined);
    expect(ids(c.available('Sales'))).to.deep.equal(['c']);
    expect(ids(c.available('Support'))).to.deep.equal([]);
    expect(c.workgroups()).to.deep.equal([
      { id: 'Sales', agents: 2, loggedIn: 2, available: 1, onPhone: 0 },
      { id: 'Support', agents: 1, loggedIn: 0, available: 0, onPhone: 0 },
    ]);

    // The last member leaves: the workgroup is gone.
    server.upsert('b', { workgroups: null });
    await inSync(c);
    expect(c.workgroups().map((w) => w.id)).to.deep.equal(['Sales']);

    expect(recordsOf(c)).to.deep.equal(server.records());
    expect(gaps, 'status frames share the gap-free seq').to.deep.equal([]);
    expect(changes.map((ch) => [ch.op, ch.id])).to.deep.equal([
      ['upsert', 'd'],
      ['remove', 'a'],
      ['upsert', 'b'],
    ]);
    expect(c.counts.status).to.equal(6);
  });

  it("a status for a user not held yet starts its record, and the user's properties merge into it", async () => {
    const c = client().start();
    await inSync(c);
    const events: StatusChange[] = [];
    c.on('status', (s) => events.push(s));
    server.status('y', { statusId: null, available: false }); // nothing to clear: no record either
    server.status('z', { ...available });
    server.upsert('z', { extension: '2026', workgroups: wg('Support') });
    await inSync(c);
    expect(c.get('y')).to.equal(undefined);
    expect(events.map((e) => [e.id, e.status])).to.deep.equal([
      ['y', undefined],
      ['z', available],
    ]);
    expect(c.get('z')).to.deep.equal({ status: available, extension: '2026', workgroups: wg('Support') });
    expect(ids(c.available('Support'))).to.deep.equal(['a', 'z']);
  });

  it('a resume after a dropped connection keeps the statuses and applies the status frames it missed, without a snapshot', async () => {
    // A fixed pause before reconnecting: the changes below land while the client is away.
    const c = client({ backoff: { initialMs: 400, maxMs: 400, multiplier: 1, jitter: 0 } }).start();
    await inSync(c);
    const { seq, epoch } = c;
    const snapshots = c.counts.snapshot;
    const resets: string[] = [];
    c.on('reset', (f) => resets.push(f.reason));
    const events: [number, string][] = [];
    c.on('status', (s) => events.push([s.seq, s.id]));
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    server.dropAll();
    await closed;
    expect(c.get('a')?.status, 'statuses are kept while away').to.deep.equal(USERS[0]!.status);

    server.status('b', { statusId: 'Available', available: true });
    server.status('c', { loggedIn: false, onPhone: false, available: false, statusId: 'Gone Home' });
    server.remove('e');
    await inSync(c, 'the client resumed at the server seq');

    const resume = server.upgrades.at(-1)!;
    expect(server.upgrades).to.have.length(2);
    expect(resume.searchParams.get('since')).to.equal(String(seq));
    expect(resume.searchParams.get('epoch')).to.equal(epoch);
    expect(c.counts.snapshot, 'no snapshot on the resume').to.equal(snapshots);
    expect(resets).to.deep.equal([]);
    expect(events).to.deep.equal([
      [seq! + 1, 'b'],
      [seq! + 2, 'c'],
    ]);
    expect(recordsOf(c)).to.deep.equal(server.records());
    expect(c.get('a')?.status, 'a status no frame touched is still there').to.deep.equal(USERS[0]!.status);
    expect(c.workgroups()).to.deep.equal([
      { id: 'Sales', agents: 2, loggedIn: 1, available: 1, onPhone: 0 },
      { id: 'Support', agents: 3, loggedIn: 2, available: 2, onPhone: 0 },
    ]);
  });

  it('a reset (a new epoch, live or found on a resume) leaves only the statuses of the fresh snapshot', async () => {
    const c = client({ backoff: { initialMs: 300, maxMs: 300, multiplier: 1, jitter: 0 } }).start();
    await inSync(c);
    const resets: string[] = [];
    c.on('reset', (f) => resets.push(f.reason));

    // Live: the mirror restarted with statuses for a and d only (b, c and e lost theirs).
    server.newEpoch('e2', [
      { id: 'a', workgroups: wg('Support', 'Sales'), status: { statusId: 'At Lunch', loggedIn: true, onPhone: false, available: false } },
      { id: 'b', workgroups: wg('Support') },
      { id: 'c', workgroups: wg('Sales') },
      { id: 'd', workgroups: wg('Support'), status: { ...available } },
      { id: 'e' },
    ]);
    await inSync(c, 'the client on the new epoch');
    expect(resets).to.deep.equal(['epoch']);
    expect(recordsOf(c)).to.deep.equal(server.records());
    for (const id of ['b', 'c', 'e']) expect(c.get(id), id).to.not.have.property('status');
    expect(c.workgroups()).to.deep.equal([
      { id: 'Sales', agents: 2, loggedIn: 1, available: 0, onPhone: 0 },
      { id: 'Support', agents: 3, loggedIn: 2, available: 1, onPhone: 0 },
    ]);
    expect(ids(c.available('Support'))).to.deep.equal(['d']);

    // Found on a resume: the client comes back with since/epoch of a mirror that is gone.
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    server.dropAll();
    await closed;
    server.newEpoch('e3', [{ id: 'b', workgroups: wg('Support'), status: { statusId: 'Follow Up', loggedIn: true, onPhone: true, available: false } }], 7);
    await inSync(c, 'the client on the third epoch');
    expect(server.upgrades.at(-1)!.searchParams.get('epoch')).to.equal('e2');
    expect(resets).to.deep.equal(['epoch', 'epoch']);
    expect(recordsOf(c)).to.deep.equal(server.records());
    expect(c.workgroups()).to.deep.equal([{ id: 'Support', agents: 1, loggedIn: 1, available: 0, onPhone: 1 }]);
    expect(c.available('Support')).to.deep.equal([]);
    expect(c.available('Sales')).to.deep.equal([]);
  });

  it('the workgroup counts kept change by change equal a count from scratch, after any run of changes', () => {
    const groups = ['G1', 'G2', 'G3'];
    const statusData = fc.record(
      {
        statusId: fc.constantFrom('Available', 'At Lunch', null),
        loggedIn: fc.boolean(),
        onPhone: fc.boolean(),
        available: fc.boolean(),
        notes: fc.constantFrom('x', null),
      },
      { requiredKeys: [] },
    );
    const op = fc.oneof(
      fc.record({ op: fc.constant('upsert' as const), id: fc.constantFrom('u1', 'u2', 'u3', 'u4'), workgroups: fc.option(fc.subarray(groups)) }),
      fc.record({ op: fc.constant('status' as const), id: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5'), data: statusData }),
      fc.record({ op: fc.constant('remove' as const), id: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5') }),
    );
    const fromScratch = (users: Map<string, UserProps>, wgs: string[]) =>
      wgs
        .map((id) => {
          const members = [...users].filter(([, u]) => Array.isArray(u.workgroups) && (u.workgroups as { id: string }[]).some((w) => w.id === id));
          const st = (u: UserProps) => (u.status ?? {}) as Record<string, unknown>;
          return {
            id,
            agents: members.length,
            loggedIn: members.filter(([, u]) => st(u).loggedIn === true).length,
            available: members.filter(([, u]) => st(u).available === true).length,
            onPhone: members.filter(([, u]) => st(u).onPhone === true).length,
          };
        })
        .filter((w) => w.agents > 0);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const d = new UserDirectory(['extension']);
        d.replace(USERS.map((u) => ({ ...u, workgroups: wg('G1') })));
        let seq = 0;
        for (const o of ops) {
          seq++;
          if (o.op === 'upsert') d.apply({ op: 'upsert', seq, id: o.id, data: { workgroups: o.workgroups === null ? null : wg(...o.workgroups) } });
          else if (o.op === 'remove') d.apply({ op: 'remove', seq, id: o.id });
          else d.applyStatus(o.id, o.data);
          for (const [, u] of d.users) if (u.status) expect(u.status).to.have.property('statusId');
        }
        expect(d.workgroups()).to.deep.equal(fromScratch(d.users, groups));
        const inGroup = (u: UserProps, g: string) => (u.workgroups as { id: string }[] | undefined)?.some((w) => w.id === g);
        for (const g of groups) {
          const expected = [...d.users].filter(([, u]) => inGroup(u, g) && (u.status as { available?: unknown } | undefined)?.available === true);
          expect(ids(d.available(g))).to.deep.equal(expected.map(([id]) => id).sort());
        }
      }),
      { numRuns: 300 },
    );
  });
});
