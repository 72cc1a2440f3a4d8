/**
 * Reads of the mirror's Redis layout (README, "The Redis mirror (for readers)") the fan-out needs: the meta hash and
 * the change stream, in bounded pages. Nothing here writes.
 */
import type { Cluster, Redis } from 'ioredis';
import { decodeChangeEntry, type ChangeEntry } from '../mirror/change.js';
import type { MirrorKeys } from '../mirror/keys.js';

export type RedisClient = Redis | Cluster;

/** The mirror's position: `epoch` is null until a mirror has initialised this prefix. */
export interface MirrorHead {
  epoch: string | null;
  seq: number;
}

type RawEntry = [id: string, fields: string[]];

export function parseHead(values: (string | null)[]): MirrorHead {
  const [epoch, seq] = values;
  const n = Number(seq ?? 0);
  return { epoch: epoch || null, seq: Number.isSafeInteger(n) && n >= 0 ? n : 0 };
}

export async function readHead(redis: RedisClient, keys: MirrorKeys): Promise<MirrorHead> {
  return parseHead(await redis.hmget(keys.meta, 'epoch', 'seq'));
}

/** Decodes raw XRANGE entries; an entry without the documented fields is reported and skipped. */
export function decodeEntries(raw: RawEntry[], onBad: (err: Error, id: string) => void): ChangeEntry[] {
  const out: ChangeEntry[] = [];
  for (const [id, fields] of raw) {
    try {
      out.push(decodeChangeEntry(fields));
    } catch (err) {
      onBad(err as Error, id);
    }
  }
  return out;
}

/** Up to `count` entries with seq ≥ fromSeq (and ≤ toSeq when given), in order. */
export async function readChanges(redis: RedisClient, keys: MirrorKeys, fromSeq: number, count: number, toSeq?: number): Promise<RawEntry[]> {
  return await redis.xrange(keys.changes, `${fromSeq}-0`, toSeq === undefined ? '+' : `${toSeq}-0`, 'COUNT', count);
}

/** The head and the first page of entries after `afterSeq`, in one round trip. */
export async function readHeadAndChanges(
  redis: RedisClient,
  keys: MirrorKeys,
  afterSeq: number,
  count: number,
): Promise<{ head: MirrorHead; raw: RawEntry[] }> {
  const results = await redis
    .pipeline()
    .hmget(keys.meta, 'epoch', 'seq')
    .xrange(keys.changes, `${afterSeq + 1}-0`, '+', 'COUNT', count)
    .exec();
  if (!results) throw new Error('Redis pipeline returned nothing');
  for (const [err] of results) if (err) throw err;
  return { head: parseHead(results[0]![1] as (string | null)[]), raw: results[1]![1] as RawEntry[] };
}

/** The seq of the first entry in `raw` (the id is `<seq>-0`). */
export function entrySeq(raw: RawEntry): number {
  return Number(raw[0].split('-')[0]);
}
