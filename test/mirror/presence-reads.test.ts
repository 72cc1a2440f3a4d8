/**
 * MirrorReader with presence (docs/presence.md, "For readers"): snapshots carry each user's status with `available`,
 * exactly as of their seq even when statuses, the catalogue and users change while they read; one user's read has
 * its status at the same seq; the catalogue; and without presence nothing of it.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { MirrorReader, type MirrorPicture, type SnapshotReadOptions } from '../../src/mirror/reader.js';
import { writeAfterFirstUserRead } from '../helpers/between-reads.js';
import { CATALOGUE, PresenceLayout } from '../helpers/presence-layout.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { LayoutWriter, plain } from '../fanout/layout.js';

const SNAPSHOT: Omit<SnapshotReadOptions, 'ids'> = { chunkUsers: 2, pageEntries: 2, maxAttempts: 3, onBadEntry: () => {} };
const PRESENCE = { enabled: true, availableGroups: ['AVAILABLE'] };

describe('MirrorReader with presence', () => {
  let redis: Redis;
  let prefix: string;
  let presence: PresenceLayout;

  beforeEach(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('presence-reader');
    const writer = new LayoutWriter(redis, prefix);
    await writer.init();
    presence = new PresenceLayout(redis, writer);
    await presence.setCatalogue(CATALOGUE);
    for (let i = 0; i < 6; i++) await presence.upsert(`u${i}`, { extension: String(1000 + i) });
    await presence.setStatus('u0', { statusId: 'Available', loggedIn: true, onPhone: false });
    await presence.setStatus('u1', { statusId: 'Available', loggedIn: true, onPhone: true, stations: ['1001'] });
    await presence.setStatus('u2', { statusId: 'At Lunch', loggedIn: true, notes: 'back at 2' });
    // spelled as a real capture does: status ids compare without case
    await presence.setStatus('u3', { statusId: 'available', loggedIn: true });
    await presence.setStatus('u4', { statusId: 'Gone Home', loggedIn: false });
    // u5 has no status
  });
  afterEach(async () => {
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  const usersOf = (picture: MirrorPicture) => plain(picture.users);

  it('gives each user its status and whether it is available; a user without one has no status', async () => {
    const picture = await new MirrorReader(redis, prefix, { presence: PRESENCE }).snapshot({ ids: null, ...SNAPSHOT });
    expect(picture.seq).to.equal(presence.writer.seq);
    expect(usersOf(picture)).to.deep.equal(plain(presence.users()));
    expect(picture.users.get('u0')!.status).to.deep.equal({ statusId: 'Available', loggedIn: true, onPhone: false, available: true });
    expect(picture.users.get('u1')!.status).to.deep.include({ onPhone: true, stations: ['1001'], available: false });
    expect(picture.users.get('u2')!.status).to.deep.include({ notes: 'back at 2', available: false });
    expect(picture.users.get('u3')!.status).to.deep.include({ available: true });
    expect(picture.users.get('u5')).to.not.have.property('status');

    const lunchCounts = await new MirrorReader(redis, prefix, { presence: { enabled: true, availableGroups: ['available', 'AWAY'] } }).snapshot({
      ids: null,
      ...SNAPSHOT,
    });
    expect(lunchCounts.users.get('u2')!.status).to.deep.include({ available: true }); // presence.availableGroups decides
  });

  it('is exactly the mirror at S1 when statuses, the catalogue and users change between S0 and S1', async () => {
    const reader = new MirrorReader(
      writeAfterFirstUserRead(redis, async () => {
        await presence.setStatus('u0', { onPhone: true }); // u0 was read already: stale until replayed
        await presence.setStatus('u0', { notes: 'a call' });
        await presence.clearStatus('u1');
        await presence.setStatus('u2', { statusId: 'Available', notes: null });
        await presence.remove('u3');
        await presence.upsert('u9', { extension: '1009' });
        await presence.setStatus('u9', { statusId: 'Available', loggedIn: true });
        await presence.setCatalogue([{ statusId: 'Gone Home', messageText: 'Gone Home', groupTag: 'AVAILABLE' }]); // u4 is still logged out
      }),
      prefix,
      { presence: PRESENCE },
    );
    const picture = await reader.snapshot({ ids: null, ...SNAPSHOT });
    expect(picture.seq).to.equal(presence.writer.seq);
    expect(usersOf(picture)).to.deep.equal(plain(presence.users()));
    expect(picture.users.get('u0')!.status).to.deep.equal({ statusId: 'Available', loggedIn: true, onPhone: true, notes: 'a call', available: false });
    expect(picture.users.get('u1'), 'a status that went away').to.not.have.property('status');
    expect(picture.users.get('u2')!.status).to.deep.equal({ statusId: 'Available', loggedIn: true, available: true });
    expect(picture.users.has('u3')).to.equal(false);
    expect(picture.users.get('u9')!.status).to.deep.include({ available: true });
  });

  it('replays a catalogue change from its entries: who became available and who stopped being', async () => {
    const reader = new MirrorReader(
      writeAfterFirstUserRead(redis, async () => {
        await presence.setCatalogue([
          { statusId: 'Available', messageText: 'Available', groupTag: 'BUSY' },
          { statusId: 'At Lunch', messageText: 'At Lunch', groupTag: 'AVAILABLE' },
        ]);
      }),
      prefix,
      { presence: PRESENCE },
    );
    const picture = await reader.snapshot({ ids: null, ...SNAPSHOT });
    expect(usersOf(picture)).to.deep.equal(plain(presence.users()));
    expect(picture.users.get('u0')!.status).to.deep.include({ available: false });
    expect(picture.users.get('u2')!.status).to.deep.include({ available: true });
  });

  it('ignores a status entry of a user it does not hold, and drops a status left without statusId', async () => {
    const reader = new MirrorReader(
      writeAfterFirstUserRead(redis, async () => {
        await presence.setStatus('u4', { statusId: null }); // a status left without its id is no status
        const seq = ++presence.writer.seq;
        await redis
          .multi()
          .xadd(presence.writer.keys.changes, `${seq}-0`, 'seq', seq, 'op', 'status', 'id', 'stranger', 'data', '{"statusId":"Available"}', 'at', Date.now())
          .hset(presence.writer.keys.meta, 'seq', seq)
          .exec();
      }),
      prefix,
      { presence: PRESENCE },
    );
    const picture = await reader.snapshot({ ids: null, ...SNAPSHOT });
    expect(picture.seq).to.equal(presence.writer.seq);
    expect(picture.users.has('stranger')).to.equal(false);
    expect(picture.users.get('u4')).to.not.have.property('status');
  });

  it('reads one user with its status at the same seq, by id and through an index, and the catalogue', async () => {
    const reader = new MirrorReader(redis, prefix, { presence: PRESENCE });
    const one = await reader.user('u0');
    expect(one.head).to.deep.equal({ epoch: presence.writer.epoch, seq: presence.writer.seq });
    expect(one.props).to.deep.equal(presence.users().get('u0'));
    expect((await reader.user('u3')).props.status, 'the catalogue spells it otherwise').to.deep.include({ available: true });
    expect((await reader.user('u5')).props).to.not.have.property('status');
    expect((await reader.user('nobody')).props).to.deep.equal({});
    await redis.hset(presence.writer.keys.index('extension'), '1001', 'u1');
    const found = await reader.lookup('extension', '1001');
    expect(found.props.status).to.deep.equal({ statusId: 'Available', loggedIn: true, onPhone: true, stations: ['1001'], available: false });

    const { head, statuses } = await reader.statuses();
    expect(head.seq).to.equal(presence.writer.seq);
    expect(statuses).to.deep.equal([...CATALOGUE].sort((a, b) => (a.statusId < b.statusId ? -1 : 1)));
  });

  it('without presence reads no status, and leaves status entries out of every page', async () => {
    for (const reader of [new MirrorReader(redis, prefix), new MirrorReader(redis, prefix, { presence: { ...PRESENCE, enabled: false } })]) {
      const picture = await reader.snapshot({ ids: null, ...SNAPSHOT });
      expect(picture.seq).to.equal(presence.writer.seq);
      expect(usersOf(picture)).to.deep.equal(plain(presence.writer.users));
      expect((await reader.user('u0')).props).to.not.have.property('status');
      const page = await reader.changes(1, 100);
      expect(page.kind === 'entries' && page.entries.every((e) => e.op !== 'status')).to.equal(true);
      expect(page).to.include({ lastSeq: presence.writer.seq });
      expect((await reader.recentChanges(5)).map((e) => e.op)).to.deep.equal([]);
    }
    const withPresence = await new MirrorReader(redis, prefix, { presence: PRESENCE }).recentChanges(5);
    expect(withPresence.map((e) => e.op)).to.deep.equal(['status', 'status', 'status', 'status', 'status']);
  });
});
