/**
 * The mirror's Redis side: the writer's Lua scripts (run by EVALSHA with a NOSCRIPT fallback: ioredis defineCommand
 * does both); loading the mirror back into memory is the reader's (src/mirror/reader.ts).
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { EMPTY_CATALOGUE, EMPTY_HELD } from './chunk-builder.js';
import type { MirrorKeys } from './keys.js';
import type { Chunk } from './planner.js';
import { MirrorReader, type LoadedMirror } from './reader.js';

export type { LoadedMirror } from './reader.js';

const APPLY_LUA = readFileSync(new URL('./lua/apply.lua', import.meta.url), 'utf8');
const INIT_LUA = readFileSync(new URL('./lua/init.lua', import.meta.url), 'utf8');
const HELD_REQUEST_LUA = readFileSync(new URL('./lua/held-request.lua', import.meta.url), 'utf8');
// Command names on the shared client; several mirrors may share one client, the scripts are the same.
const APPLY = 'icwatchMirrorApply';
const INIT = 'icwatchMirrorInit';
const HELD_REQUEST = 'icwatchHeldRequest';

type ScriptFn = (...args: string[]) => Promise<string[]>;

/** `users` of an ok reply for a chunk that needed no round trip (nothing to write): the count is unknown. */
export const NO_WRITE = -1;

export type ApplyReply =
  /** `unreplicated`: with redis.waitReplicas, fewer replicas than asked acknowledged the write in time. */
  | { kind: 'ok'; seq: number; users: number; unreplicated?: boolean }
  | { kind: 'stale'; epoch: string; seq: number }
  /** High availability: the write carried a fence that is no longer meta's (another replica took over). */
  | { kind: 'fenced'; fence: string }
  | { kind: 'empty' }
  /** An earlier write failed halfway (meta `writing` still 1, or the stream ahead of seq): nothing was written. */
  | { kind: 'incomplete' };

/** Why the load started a new epoch (lua/init.lua): '' = it did not. */
export type EpochStart = '' | 'created' | 'incomplete' | 'lost';

export interface MetaReply {
  epoch: string;
  seq: number;
  started: EpochStart;
}

/** What the writer committed last (an epoch and the seq its last acknowledged write reached). */
export interface Committed {
  epoch: string;
  seq: number;
}

/** redis.waitReplicas / redis.waitTimeoutMs: each write waits for that many replicas (WAIT), at most that long. */
export interface ReplicaWait {
  replicas: number;
  timeoutMs: number;
}

/** The outcome of a compare-and-set of the held-removals request (lua/held-request.lua). */
export type HeldRequestReply = { kind: 'ok' } | { kind: 'none' } | { kind: 'other'; current: string };

export interface ApplyArgs {
  epoch: string;
  seq: number;
  maxlen: number;
  now: number;
  meta: string[];
  /** The index segment, its group count first (ChunkBuilder.indexArgs). */
  indexArgs: string[];
  entryArgs: string[];
  /** The held segment (ChunkBuilder.heldArgs); absent = no held writes. */
  heldArgs?: readonly string[];
  /** The catalogue segment (ChunkBuilder.catalogueArgs); absent = no catalogue writes. */
  catalogueArgs?: readonly string[];
  /** The writer's fencing token (high availability); absent = no fence check. Defaults to the store's own. */
  fence?: number;
}

export class MirrorStore {
  private readonly reader: MirrorReader;

  constructor(
    private readonly redis: Redis | Cluster,
    readonly keys: MirrorKeys,
    /** The fence every write of this store carries (the leader's term, src/ha); undefined = unfenced. */
    readonly fence?: number,
    private readonly wait: ReplicaWait = { replicas: 0, timeoutMs: 0 },
    /** Presence: a removed user's status hash goes with it (docs/presence.md). */
    private readonly presence = false,
  ) {
    const r = redis as unknown as Record<string, unknown>;
    if (typeof r[APPLY] !== 'function') redis.defineCommand(APPLY, { numberOfKeys: 6, lua: APPLY_LUA });
    if (typeof r[INIT] !== 'function') redis.defineCommand(INIT, { numberOfKeys: 3, lua: INIT_LUA });
    defineHeldRequest(redis);
    this.reader = new MirrorReader(redis, keys.prefix);
  }

  private script(name: string): ScriptFn {
    return (this.redis as unknown as Record<string, ScriptFn>)[name]!.bind(this.redis);
  }

  /**
   * The mirror's epoch and seq, starting a new epoch if meta is missing, a write failed halfway, or Redis is behind
   * what this writer `committed` (lua/init.lua).
   */
  async initMeta(committed?: Committed): Promise<MetaReply> {
    const k = this.keys;
    const fence = this.fence === undefined ? '' : String(this.fence);
    const [epoch, seq, started] = await this.script(INIT)(k.meta, k.ids, k.changes, newEpoch(), committed?.epoch ?? '', String(committed?.seq ?? 0), fence);
    return { epoch: epoch!, seq: Number(seq), started: (started ?? '') as EpochStart };
  }

  /** One planned chunk as one apply call; a chunk with nothing to write costs no round trip. */
  async applyChunk(chunk: Chunk, maxlen: number): Promise<ApplyReply> {
    const b = chunk.builder;
    if (!b.entries && !chunk.indexWrites && !chunk.meta.length && !chunk.heldWrites && !chunk.catalogueWrites)
      return { kind: 'ok', seq: chunk.baseSeq, users: NO_WRITE };
    return this.apply({
      epoch: chunk.epoch,
      seq: chunk.baseSeq,
      maxlen,
      now: Date.now(),
      meta: chunk.meta,
      indexArgs: chunk.indexArgs,
      heldArgs: chunk.heldArgs,
      catalogueArgs: chunk.catalogueArgs,
      entryArgs: b.entryArgs,
    });
  }

  async apply(a: ApplyArgs): Promise<ApplyReply> {
    const k = this.keys;
    const fence = a.fence ?? this.fence;
    const args = [
      k.meta,
      k.ids,
      k.changes,
      k.held,
      k.heldInfo,
      k.statuses,
      a.epoch,
      String(a.seq),
      k.userKeyPrefix,
      k.indexKeyPrefix,
      k.notify,
      String(a.maxlen),
      String(a.now),
      fence === undefined ? '' : String(fence),
      this.presence ? k.statusKeyPrefix : '',
      String(a.meta.length / 2),
      ...a.meta,
      ...a.indexArgs,
      ...(a.heldArgs ?? EMPTY_HELD),
      ...(a.catalogueArgs ?? EMPTY_CATALOGUE),
      ...a.entryArgs,
    ];
    let acked: number | undefined;
    let reply: string[];
    if (this.wait.replicas > 0) {
      // WAIT in the same round trip, on the same connection (a Cluster pipeline goes to the slot's node): it counts the
      // replicas that acknowledged every write this connection made so far, so the script's too.
      const pipe = this.redis.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown> & ReturnType<Redis['pipeline']>;
      pipe[APPLY]!(...args);
      pipe.wait(this.wait.replicas, this.wait.timeoutMs);
      const [[scriptErr, scriptReply], [waitErr, waitReply]] = ((await pipe.exec()) ?? []) as Array<[Error | null, unknown]> as [
        [Error | null, unknown],
        [Error | null, unknown],
      ];
      if (scriptErr) throw scriptErr;
      reply = scriptReply as string[];
      acked = waitErr ? 0 : Number(waitReply);
    } else reply = await this.script(APPLY)(...args);
    if (reply[0] === 'OK') {
      const ok: ApplyReply = { kind: 'ok', seq: Number(reply[1]), users: Number(reply[2]) };
      return acked !== undefined && acked < this.wait.replicas ? { ...ok, unreplicated: true } : ok;
    }
    if (reply[0] === 'FENCED') return { kind: 'fenced', fence: reply[1]! };
    if (reply[0] === 'STALE') return { kind: 'stale', epoch: reply[1]!, seq: Number(reply[2]) };
    if (reply[0] === 'INCOMPLETE') return { kind: 'incomplete' };
    return { kind: 'empty' };
  }

  /** Everything the mirror holds, read consistently (MirrorReader.writerLoad). */
  load(indexedProperties: readonly string[]): Promise<LoadedMirror> {
    return this.reader.writerLoad(indexedProperties, this.presence);
  }
}

/**
 * Compare and set the operator's request about held removals (lua/held-request.lua): `expected` → `value`
 * ('' = none). Used by the writer (taking a request) and by `icwatch removals` (making or withdrawing one).
 */
export async function swapHeldRequest(redis: Redis | Cluster, keys: MirrorKeys, expected: string, value: string): Promise<HeldRequestReply> {
  defineHeldRequest(redis);
  const reply = await (redis as unknown as Record<string, ScriptFn>)[HELD_REQUEST]!.call(redis, keys.held, keys.heldInfo, expected, value);
  if (reply[0] === 'OK') return { kind: 'ok' };
  if (reply[0] === 'NONE') return { kind: 'none' };
  return { kind: 'other', current: reply[1] ?? '' };
}

function defineHeldRequest(redis: Redis | Cluster): void {
  if (typeof (redis as unknown as Record<string, unknown>)[HELD_REQUEST] !== 'function')
    redis.defineCommand(HELD_REQUEST, { numberOfKeys: 2, lua: HELD_REQUEST_LUA });
}

/** A random epoch id (new whenever the mirror starts from nothing). */
export function newEpoch(): string {
  return randomBytes(8).toString('hex');
}
