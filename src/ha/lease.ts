/**
 * The leader lease in Redis (`{P}:leader`, a string holding the holder's replica id, PX ha.leaseMs) and the
 * fencing term in `{P}:meta` field `fence`: acquire, compare-and-renew and release, each one Lua script (run by
 * EVALSHA with a NOSCRIPT fallback: ioredis defineCommand), so that no two replicas can both believe they won.
 */
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import type { LeaseKeys } from '../mirror/keys.js';

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
const SCRIPTS = {
  icwatchLeaseAcquire: lua('lease-acquire'),
  icwatchLeaseRenew: lua('lease-renew'),
  icwatchLeaseRelease: lua('lease-release'),
} as const;
type ScriptName = keyof typeof SCRIPTS;

/** remainingMs: the holder's lease left, as PTTL says (-1: the key has no expiry). */
export type AcquireReply = { kind: 'acquired'; fence: number } | { kind: 'taken'; holder: string; remainingMs: number };
export type RenewReply = { kind: 'renewed' } | { kind: 'lost'; holder: string; fence: string };

export class LeaseStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: LeaseKeys,
    /** This replica's id (ha.replicaId): the value of the lease key while it leads. */
    readonly replicaId: string,
    private readonly leaseMs: number,
  ) {
    const r = redis as unknown as Record<string, unknown>;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      if (typeof r[name] !== 'function') redis.defineCommand(name, { numberOfKeys: 2, lua: script });
    }
  }

  private run(name: ScriptName, ...args: string[]): Promise<unknown> {
    const fn = (this.redis as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[name]!;
    return fn.call(this.redis, this.keys.leader, this.keys.meta, ...args);
  }

  /** Takes the lease if it is free (or still this replica's), starting a new fence. */
  async acquire(): Promise<AcquireReply> {
    const reply = (await this.run('icwatchLeaseAcquire', this.replicaId, String(this.leaseMs))) as [string, string, number?];
    if (reply[0] === 'ACQUIRED') return { kind: 'acquired', fence: Number(reply[1]) };
    return { kind: 'taken', holder: reply[1], remainingMs: Number(reply[2] ?? -1) };
  }

  /** Extends the lease by ha.leaseMs if this replica still holds it under `fence`. */
  async renew(fence: number): Promise<RenewReply> {
    const reply = (await this.run('icwatchLeaseRenew', this.replicaId, String(this.leaseMs), String(fence))) as string[];
    if (reply[0] === 'RENEWED') return { kind: 'renewed' };
    return { kind: 'lost', holder: reply[1] ?? '', fence: reply[2] ?? '' };
  }

  /** Gives the lease up if this replica still holds it under `fence`; true when it did. */
  async release(fence: number): Promise<boolean> {
    return Number(await this.run('icwatchLeaseRelease', this.replicaId, String(fence), this.keys.leaderReleased)) === 1;
  }
}
