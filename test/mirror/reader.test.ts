/**
 * MirrorReader, the one door for reading the mirror: the snapshot is the mirror exactly as of the seq it names even
 * when writes land while it reads (they are replayed from the stream), change pages, one user and index lookups.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { MirrorReader, type MirrorPicture, type SnapshotReadOptions } from '../../src/mirror/reader.js';
import { writeAfterFirstUserRead } from '../helpers/between-reads.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { LayoutWriter, plain } from '../fanout/layout.js';
import { replace, startMirror, user } from './fixtures.js';

const SNAPSHOT: Omit<SnapshotReadOptions, 'ids'> = { chunkUsers: 2, pageEntries: 2, maxAttempts: 3, onBadEntry: () => {} };

describe('MirrorReader', () => {
  let redis: Redis;
  let prefix: string;
  let writer: LayoutWriter;

  beforeEach(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('reader');
    writer = new LayoutWriter(redis, prefix);
    await writer.init();
    for (let i = 0; i < 6; i++) await writer.upsert(`u${i}`, { extension: String(1000 + i), statusText: 'Available' });
  });
  afterEach(async () => {
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  const usersOf = (picture: MirrorPicture) => plain(picture.users);

  it('reads a snapshot exactly as of S1 when writes land between S0 and S1: they are replayed from the stream', async () => {
    const reader = new MirrorReader(
      writeAfterFirstUserRead(redis, async () => {
        await writer.upsert('u0', { statusText: 'Away', extension: null }); // u0 was read already: stale until replayed
        await writer.remove('u1');
        await writer.upsert('u9', { extension: '1009' });
        for (let i = 0; i < 3; i++) await writer.upsert('u5', { statusText: `s${i}` }); // more than one page to replay
      }),
      prefix,
    );
    const picture = await reader.snapshot({ ids: null, ...SNAPSHOT });
    expect(picture.seq).to.equal(writer.seq);
    expect(picture.epoch).to.equal(writer.epoch);
    expect(usersOf(picture)).to.deep.equal(plain(writer.users));
    expect(picture.users.get('u0')).to.not.have.property('extension');
  });

  it('replays only the asked ids in a filtered snapshot', async () => {
    const reader = new MirrorReader(
      writeAfterFirstUserRead(redis, async () => {
        await writer.upsert('u0', { statusText: 'Away' });
        await writer.upsert('u3', { statusText: 'Away' });
      }),
      prefix,
    );
    const picture = await reader.snapshot({ ids: new Set(['u0', 'u1']), ...SNAPSHOT });
    expect(picture.seq).to.equal(writer.seq);
    expect([...picture.users.keys()].sort()).to.deep.equal(['u0', 'u1']);
    expect(picture.users.get('u0')!.statusText).to.equal('Away');
  });

  it('reads again when the stream was trimmed past S0 meanwhile, and gives up after maxAttempts', async () => {
    let writes = 0;
    const trimming = async () => {
      await writer.upsert('u0', { statusText: `Away ${++writes}` });
      await writer.trimThrough(writer.seq);
    };
    const retried = await new MirrorReader(writeAfterFirstUserRead(redis, trimming), prefix).snapshot({ ids: null, ...SNAPSHOT });
    expect(retried.seq).to.equal(writer.seq);
    expect(usersOf(retried)).to.deep.equal(plain(writer.users));
    const once = new MirrorReader(writeAfterFirstUserRead(redis, trimming), prefix).snapshot({ ids: null, ...SNAPSHOT, maxAttempts: 1 });
    await once.then(
      () => expect.fail('a single attempt cannot succeed'),
      (err: Error) => expect(err.message).to.match(/no longer holds seq/),
    );
  });

  it('reads the change stream in pages, with the head in the same round trip, and says when a seq is gone', async () => {
    const reader = new MirrorReader(redis, prefix);
    expect(await reader.head()).to.deep.equal({ epoch: writer.epoch, seq: 6 });
    const page = await reader.changes(2, 3);
    expect(page).to.include({ kind: 'entries', firstSeq: 2, lastSeq: 4, read: 3 });
    expect(page.kind === 'entries' && page.entries.map((e) => [e.seq, e.op, e.id])).to.deep.equal([
      [2, 'upsert', 'u1'],
      [3, 'upsert', 'u2'],
      [4, 'upsert', 'u3'],
    ]);
    expect(await reader.changes(5, 10, { toSeq: 5 })).to.include({ kind: 'entries', firstSeq: 5, lastSeq: 5, read: 1 });
    const { head, page: after } = await reader.headAndChanges(6, 10);
    expect(head.seq).to.equal(6);
    expect(after.kind).to.equal('empty');
    expect((await reader.recentChanges(2)).map((e) => e.seq)).to.deep.equal([6, 5]);
    await writer.trimThrough(3);
    expect(await reader.holdsChange(3)).to.equal(false);
    expect(await reader.holdsChange(4)).to.equal(true);
    const bad: string[] = [];
    await redis.xadd(writer.keys.changes, '7-0', 'nonsense', '1');
    const skipped = await reader.changes(7, 10, { onBadEntry: (_err, id) => bad.push(id) });
    expect(skipped).to.include({ kind: 'entries', firstSeq: 7, lastSeq: 7, read: 1 });
    expect(bad).to.deep.equal(['7-0']);
  });

  it('reads one user by id and through an index, with the head, in one atomic script', async () => {
    const mirrorPrefix = uniquePrefix('reader-one');
    const h = await startMirror(redis, mirrorPrefix);
    try {
      await h.apply(replace([user('jdoe', { extension: '2222', statusText: 'Available' }), user('asmith', { extension: '3333' })]));
      const reader = new MirrorReader(redis, mirrorPrefix);
      const head = await reader.head();
      const one = await reader.user('jdoe');
      expect(one.head).to.deep.equal(head);
      expect(one.id).to.equal('jdoe');
      expect(one.props).to.deep.include({ extension: '2222', statusText: 'Available' });
      expect(one.props.configurationId).to.deep.include({ id: 'jdoe' });
      expect((await reader.user('nobody')).props).to.deep.equal({});
      const found = await reader.lookup('extension', '3333');
      expect(found).to.deep.include({ head, id: 'asmith' });
      expect(found.props.extension).to.equal('3333');
      expect(await reader.lookup('extension', '9999')).to.deep.equal({ head, id: null, props: {} });
      expect((await reader.meta()).users).to.equal(2);
      expect(await reader.heldRemovals()).to.deep.equal({ ids: [] });
    } finally {
      await h.mirror.drain(5000);
      await dropPrefix(redis, mirrorPrefix);
    }
  });
});
