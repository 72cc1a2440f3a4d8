/**
 * Presence over the WebSocket (README "The WebSocket protocol", docs/presence.md "For readers"): snapshots carry each
 * user's `status`, `op status` entries become `status` frames that a client merges into it, resume and reset work
 * for them as for upserts, and `props` (asked, or a token's) treats `status` as a property.
 */
import { expect } from 'chai';
import WebSocket from 'ws';
import { waitFor } from '../helpers/net.js';
import { CATALOGUE, PresenceLayout } from '../helpers/presence-layout.js';
import { useFixture } from './harness.js';
import { plain, type Props } from './layout.js';

type Frame = Record<string, any>;

/** A raw ws client that keeps every frame and the users as the README's client does with them (from `held` on a resume). */
function follow(url: string, options: WebSocket.ClientOptions = {}, held = new Map<string, Props>()) {
  const ws = new WebSocket(url, options);
  const frames: Frame[] = [];
  const users = new Map(held);
  let snapshotting = false;
  let seq = -1;
  ws.on('message', (d) => {
    const f = JSON.parse((d as Buffer).toString()) as Frame;
    frames.push(f);
    if (f.type === 'reset') users.clear();
    if (f.type === 'snapshot') {
      if (!snapshotting) users.clear();
      snapshotting = !f.last;
      for (const { id, ...props } of f.users as Props[]) users.set(id as string, props);
      if (f.last) seq = f.seq;
    }
    if (f.type === 'upsert' || f.type === 'status') {
      const user = { ...users.get(f.id) };
      const target: Props = f.type === 'status' ? { ...(user.status as Props) } : user;
      for (const [k, v] of Object.entries(f.data as Props))
        if (v === null) delete target[k];
        else target[k] = v;
      if (f.type === 'status') {
        if (target.statusId === undefined) delete user.status;
        else user.status = target;
      }
      users.set(f.id, user);
      seq = f.seq;
    }
    if (f.type === 'remove') {
      users.delete(f.id);
      seq = f.seq;
    }
  });
  const status = new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  ws.on('error', () => {});
  return { ws, frames, users, seq: () => seq, status };
}

const PRESENCE = { enabled: true, availableGroups: ['AVAILABLE'] };

describe('fanout: presence', function () {
  const f = useFixture('fanout-presence', { users: 12, seed: { statusText: 'In' }, fanout: { presence: PRESENCE } });
  let presence: PresenceLayout;
  const open: WebSocket[] = [];

  beforeEach(async () => {
    presence = new PresenceLayout(f.redis, f.writer);
    await presence.setCatalogue(CATALOGUE);
    for (let i = 0; i < 8; i++) await presence.setStatus(`u${i}`, { statusId: i % 2 ? 'At Lunch' : 'Available', loggedIn: i < 6, onPhone: i === 4 });
  });
  afterEach(() => {
    for (const ws of open.splice(0)) ws.close();
  });

  const connect = (query = '', held?: Map<string, Props>) => {
    const c = follow(`${f.h.url}${query}`, {}, held);
    open.push(c.ws);
    return c;
  };

  /** Some status changes, a user who goes, one who comes, and a catalogue change. */
  async function churn(): Promise<void> {
    await presence.setStatus('u0', { onPhone: true });
    await presence.setStatus('u1', { statusId: 'Available', notes: 'back' });
    await presence.upsert('u3', { statusText: 'Out' });
    await presence.clearStatus('u2');
    await presence.remove('u5');
    await presence.upsert('u20', { extension: '1020' });
    await presence.setStatus('u20', { statusId: 'Available', loggedIn: true });
    await presence.setCatalogue([{ statusId: 'At Lunch', messageText: 'At Lunch', groupTag: 'AVAILABLE' }]);
    await presence.setStatus('u1', { notes: null });
  }

  it('snapshots carry status, status frames follow, and the client ends holding every user with its status', async () => {
    const c = connect();
    await waitFor('the snapshot', () => c.seq() === f.writer.seq);
    expect(plain(c.users)).to.deep.equal(plain(presence.users()));
    expect(c.users.get('u0')!.status).to.deep.equal({ statusId: 'Available', loggedIn: true, onPhone: false, available: true });
    expect(c.users.get('u9')).to.not.have.property('status');

    const from = f.writer.seq;
    await churn();
    await waitFor('the live changes', () => c.seq() === f.writer.seq);
    expect(plain(c.users)).to.deep.equal(plain(presence.users()));
    const live = c.frames.filter((fr) => fr.seq > from);
    expect(
      live.map((fr) => fr.seq),
      'every change, in order',
    ).to.deep.equal(Array.from({ length: f.writer.seq - from }, (_, i) => from + 1 + i));
    expect(live[0]).to.deep.equal({ type: 'status', seq: from + 1, id: 'u0', data: { onPhone: true, available: false } });
    expect(live.find((fr) => fr.id === 'u2')).to.deep.include({ type: 'status', data: { statusId: null, loggedIn: null, onPhone: null, available: false } });
    expect(c.users.get('u2'), 'a status that went away').to.not.have.property('status');
    expect(c.users.get('u3')!.status, 'a catalogue change: at lunch is available now').to.deep.include({ available: true });
  });

  it('resumes from a seq in the middle with the status frames it missed, and resets with statuses when it cannot', async () => {
    const first = connect();
    await waitFor('the snapshot', () => first.seq() === f.writer.seq);
    await presence.setStatus('u0', { notes: 'one' });
    const middle = f.writer.seq;
    await churn();
    first.ws.close();

    // A client that held the mirror at `middle` resumes from there: what it missed brings it to the mirror now.
    expect(presence.history.has(middle), 'the mirror at middle is known').to.equal(true);
    const resumed = connect(`?since=${middle}&epoch=${f.writer.epoch}`, presence.history.get(middle));
    await waitFor('the missed changes', () => resumed.seq() === f.writer.seq);
    const types = resumed.frames.map((fr) => fr.type);
    expect(types[0]).to.equal('hello');
    expect(types, 'no snapshot: a resume').to.not.include('snapshot');
    expect(types).to.include('status');
    expect(resumed.frames.slice(1).map((fr) => fr.seq)).to.deep.equal(Array.from({ length: f.writer.seq - middle }, (_, i) => middle + 1 + i));
    expect(plain(resumed.users)).to.deep.equal(plain(presence.users()));

    await f.writer.trimThrough(middle + 2);
    const reset = connect(`?since=${middle}&epoch=${f.writer.epoch}`, presence.history.get(middle));
    await waitFor('a fresh snapshot', () => reset.seq() === f.writer.seq);
    expect(reset.frames.map((fr) => fr.type).slice(0, 3)).to.deep.equal(['hello', 'reset', 'snapshot']);
    expect(reset.frames[1]).to.deep.include({ reason: 'trimmed' });
    expect(plain(reset.users)).to.deep.equal(plain(presence.users()));
  });

  it('props=status receives status frames alone and snapshot users with only id and status; other props none of it', async () => {
    const only = connect('?props=status');
    const none = connect('?props=extension,statusText');
    await waitFor('both snapshots', () => only.seq() === f.writer.seq && none.seq() === f.writer.seq);
    const snapshotUsers = only.frames.filter((fr) => fr.type === 'snapshot').flatMap((fr) => fr.users as Props[]);
    expect(snapshotUsers.find((u) => u.id === 'u0')).to.deep.equal({ id: 'u0', status: presence.users().get('u0')!.status });
    expect(snapshotUsers.find((u) => u.id === 'u9')).to.deep.equal({ id: 'u9' });
    const other = none.frames.filter((fr) => fr.type === 'snapshot').flatMap((fr) => fr.users as Props[]);
    expect(other.some((u) => 'status' in u)).to.equal(false);

    const from = f.writer.seq;
    await presence.setStatus('u0', { notes: 'x' });
    await presence.upsert('u0', { statusText: 'Busy' });
    await presence.setStatus('u1', { loggedIn: false });
    await waitFor('the status frames', () => only.frames.filter((fr) => fr.seq > from).length === 2);
    await waitFor('the upsert', () => none.frames.some((fr) => fr.seq > from));
    await new Promise((r) => setTimeout(r, 300)); // nothing else is on its way
    expect(only.frames.filter((fr) => fr.seq > from).map((fr) => [fr.type, fr.id])).to.deep.equal([
      ['status', 'u0'],
      ['status', 'u1'],
    ]);
    expect(none.frames.filter((fr) => fr.seq > from)).to.deep.equal([{ type: 'upsert', seq: from + 2, id: 'u0', data: { statusText: 'Busy' } }]);
  });
});

describe('fanout: presence and tokens, and presence off', function () {
  const tokens = ['all', { token: 'no-status', props: ['extension'] }, { token: 'with-status', props: ['extension', 'status'] }];
  const f = useFixture('fanout-presence-tokens', { users: 3, fanout: { presence: PRESENCE, tokens } });
  const off = useFixture('fanout-presence-off', { users: 3, fanout: { presence: { ...PRESENCE, enabled: false } } });
  const open: WebSocket[] = [];
  afterEach(() => {
    for (const ws of open.splice(0)) ws.close();
  });

  const connect = (url: string, token: string, query = '') => {
    const c = follow(`${url}${query}`, { headers: { Authorization: `Bearer ${token}` } });
    open.push(c.ws);
    return c;
  };

  it("a token's props decide whether it sees statuses; asking for status outside them is refused 403", async () => {
    const presence = new PresenceLayout(f.redis, f.writer);
    await presence.setCatalogue(CATALOGUE);
    await presence.setStatus('u0', { statusId: 'Available', loggedIn: true });
    const without = connect(f.h.url, 'no-status');
    const withStatus = connect(f.h.url, 'with-status');
    await waitFor('snapshots', () => without.seq() === f.writer.seq && withStatus.seq() === f.writer.seq);
    expect(without.users.get('u0')).to.deep.equal({ extension: '1000' });
    expect(withStatus.users.get('u0')).to.deep.equal({ extension: '1000', status: { statusId: 'Available', loggedIn: true, available: true } });
    await presence.setStatus('u0', { onPhone: true });
    await presence.upsert('u0', { extension: '2000' });
    await waitFor('both changes', () => withStatus.seq() === f.writer.seq && without.seq() === f.writer.seq);
    expect(without.frames.some((fr) => fr.type === 'status')).to.equal(false);
    expect(withStatus.users.get('u0')!.status).to.deep.include({ onPhone: true, available: false });
    expect(await connect(f.h.url, 'no-status', '?props=status').status).to.equal(403);
  });

  it('presence off: no status field, no status frame, and props=status is refused 400', async () => {
    const presence = new PresenceLayout(off.redis, off.writer);
    await presence.setCatalogue(CATALOGUE);
    await presence.setStatus('u0', { statusId: 'Available', loggedIn: true });
    const c = follow(off.h.url);
    open.push(c.ws);
    await waitFor('the snapshot', () => c.frames.some((fr) => fr.type === 'snapshot' && fr.last));
    await presence.setStatus('u0', { onPhone: true });
    await presence.upsert('u1', { statusText: 'Busy' });
    await waitFor('the upsert', () => c.frames.some((fr) => fr.type === 'upsert'));
    expect(plain(c.users)).to.deep.equal(plain(off.writer.users));
    expect(c.frames.some((fr) => fr.type === 'status')).to.equal(false);
    const refused = follow(`${off.h.url}?props=status`);
    open.push(refused.ws);
    expect(await refused.status).to.equal(400);
  });
});
