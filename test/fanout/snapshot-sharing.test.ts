/**
 * Full snapshots are shared while a client still holds one, so the fan-out's memory does not grow with the number
 * of clients that ask for one; a snapshot is only reused when the client can catch up from it exactly.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { SharedSnapshots } from '../../src/fanout/snapshot.js';
import { MirrorReader } from '../../src/mirror/reader.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { LayoutWriter } from './layout.js';

describe('fan-out: shared snapshots', () => {
  let redis: Redis;
  let prefix: string;
  let writer: LayoutWriter;
  let snapshots: SharedSnapshots;

  beforeEach(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('snapshots');
    writer = new LayoutWriter(redis, prefix);
    await writer.init();
    for (let i = 0; i < 20; i++) await writer.upsert(`u${i}`, { extension: String(1000 + i) });
    snapshots = new SharedSnapshots(new MirrorReader(redis, prefix), {
      chunkUsers: 8,
      pageEntries: 100,
      maxAttempts: 3,
      reuseMaxEntries: 5,
      onBadEntry: () => {},
    });
  });
  afterEach(async () => {
    await dropPrefix(redis, prefix);
    await redis.quit();
  });

  it('hands a held snapshot to later clients, who then catch up from its seq, instead of reading the directory again', async () => {
    const first = await snapshots.get(null);
    await writer.upsert('u1', { statusText: 'Away' });
    await writer.remove('u2');
    const second = await snapshots.get(null);
    expect(second).to.equal(first);
    expect(second.seq).to.equal(20);
    expect(snapshots.builds).to.equal(1);
  });

  it('builds anew when the held one is too far behind, belongs to another epoch, or the stream no longer holds what follows it', async () => {
    const first = await snapshots.get(null);
    for (let i = 0; i < 6; i++) await writer.upsert('u3', { statusText: `s${i}` });
    const behind = await snapshots.get(null);
    expect(behind).to.not.equal(first);
    expect(behind.seq).to.equal(26);

    await writer.upsert('u4', { statusText: 'x' });
    await redis.xtrim(writer.keys.changes, 'MINID', `${behind.seq + 2}-0`);
    const trimmed = await snapshots.get(null);
    expect(trimmed).to.not.equal(behind);
    expect(trimmed.seq).to.equal(27);

    await writer.init();
    await writer.upsert('v1', { extension: '1' });
    const other = await snapshots.get(null);
    expect(other.epoch).to.equal(writer.epoch);
    expect(other.userCount).to.equal(1);
    expect(snapshots.builds).to.equal(4);
  });
});
