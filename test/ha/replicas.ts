/**
 * Several icwatch replicas of one mirror as child processes (high availability): the ICWS simulator in this process,
 * a private redis-server, optionally a TCP proxy between one replica and Redis, a WebSocket follower on a chosen
 * replica, and a WriteAudit watching every write Redis runs. `converged()` is the verdict each scenario ends with:
 * mirror = simulator, follower = mirror, no seq gap in the stream nor in what the follower received.
 */
import { Redis } from 'ioredis';
import { DEFAULTS } from '../../src/config/defaults.js';
import { IcwatchClient } from '../../src/client/index.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { FAULT_TIMINGS, SECRETS } from '../chaos/harness.js';
import { difference, readMirror, readMirrorWithStatuses, streamSeqs, subscribedUsers } from '../helpers/mirror.js';
import { startIcwatch, type IcwatchProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/net.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../helpers/redis.js';
import { TcpProxy } from './tcp-proxy.js';
import { WriteAudit } from './write-audit.js';

export interface ReplicaOptions {
  /** Reach Redis through a TcpProxy the test can cut. */
  viaProxy?: boolean;
  env?: Record<string, string>;
}

export interface Replica {
  readonly name: string;
  process: IcwatchProcess;
  readonly proxy?: TcpProxy;
  /** Every line of every run of this replica. */
  output(): string;
}

export interface Leadership {
  leadership?: string;
  leader?: string;
  status: number;
}

export class Replicas {
  readonly replicas = new Map<string, Replica>();
  follower?: IcwatchClient;
  /** Replicas stopped with SIGSTOP and not yet continued. */
  private readonly frozen = new Set<string>();
  /** Seq gaps the follower saw (the fan-out sends changes contiguously; a gap would mean a lost change). */
  followerGaps = 0;
  private churner?: NodeJS.Timeout;
  private readonly pastOutput = new Map<string, string>();

  private constructor(
    readonly sim: Simulator,
    readonly redis: PrivateRedis,
    readonly reader: Redis,
    readonly audit: WriteAudit,
    readonly prefix: string,
    readonly env: Record<string, string>,
  ) {}

  /** `env`: more settings for every replica (a bench's `--presence`, say). */
  static async start(options: { users?: number; leaseMs?: number; renewMs?: number; env?: Record<string, string> } = {}): Promise<Replicas> {
    const sim = await startSimulator({ users: options.users ?? 300, seed: 11, password: SECRETS.password, ssePingMs: 1000 });
    const redis = await startPrivateRedis();
    const reader = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    reader.on('error', () => {});
    const prefix = uniquePrefix('ha');
    const audit = await WriteAudit.start(redis.url, prefix);
    const env: Record<string, string> = {
      ICWATCH_ICWS_URL: sim.url,
      ICWATCH_ICWS_PASSWORD: SECRETS.password,
      ICWATCH_REDIS_KEY_PREFIX: prefix,
      ICWATCH_LOG_LEVEL: 'info',
      ...FAULT_TIMINGS,
      ICWATCH_WEBSOCKET_TOKENS: SECRETS.token,
      ICWATCH_HA_LEASE_MS: String(options.leaseMs ?? 3000),
      ICWATCH_HA_RENEW_MS: String(options.renewMs ?? 500),
      ...options.env,
    };
    return new Replicas(sim, redis, reader, audit, prefix, env);
  }

  get keys() {
    return mirrorKeys(this.prefix);
  }

  /** Starts replica `name` (its ha.replicaId), on a free HTTP port or the one it had before. */
  async start(name: string, options: ReplicaOptions = {}): Promise<Replica> {
    const previous = this.replicas.get(name);
    if (previous) this.pastOutput.set(name, previous.output());
    const proxy = previous?.proxy ?? (options.viaProxy ? await TcpProxy.start(this.redis.port) : undefined);
    const env = {
      ...this.env,
      ICWATCH_REDIS_URL: proxy?.url ?? this.redis.url,
      ICWATCH_HA_REPLICA_ID: name,
      ...(previous ? { ICWATCH_HTTP_PORT: String(previous.process.port) } : {}),
      ...options.env,
    };
    const process = await startIcwatch(env);
    const past = this.pastOutput.get(name) ?? '';
    const replica: Replica = { name, process, proxy, output: () => past + process.stdout() + process.stderr() };
    this.replicas.set(name, replica);
    return replica;
  }

  get(name: string): Replica {
    const r = this.replicas.get(name);
    if (!r) throw new Error(`no replica ${name}`);
    return r;
  }

  /** What /readyz says of the replica's leadership (`leader`, `standby`, …), and /v1/status of who leads. */
  async leadershipOf(name: string): Promise<Leadership> {
    const res = await this.get(name).process.get('/readyz');
    const body = JSON.parse(res.text) as { leadership?: string };
    // Who leads is not on /readyz (open to probes: no replica ids); /v1/status, behind the token, says it.
    const status = await this.get(name).process.get(`/v1/status?access_token=${SECRETS.token}`);
    const leader = status.status === 200 ? (JSON.parse(status.text) as { readiness?: { leader?: string } }).readiness?.leader : undefined;
    return { leadership: body.leadership, leader, status: res.status };
  }

  /** Waits until `name` leads and every other running replica stands by naming it. */
  async leaderIs(name: string, timeoutMs = 20000): Promise<void> {
    let seen = '';
    await waitFor(
      `${name} to lead, the others standing by`,
      async () => {
        const views: string[] = [];
        let ok = true;
        for (const [other, r] of this.replicas) {
          if (r.process.child.exitCode !== null || r.process.child.signalCode !== null || this.frozen.has(other)) continue;
          const l = await this.leadershipOf(other);
          views.push(`${other}: ${l.status} ${l.leadership} (leader ${l.leader})`);
          if (other === name ? l.leadership !== 'leader' || l.status !== 200 : l.leadership !== 'standby' || l.leader !== name) ok = false;
        }
        seen = views.join('; ');
        return ok;
      },
      timeoutMs,
      100,
    ).catch((err: Error) => {
      const ha = [...this.replicas.values()].flatMap((r) =>
        r
          .output()
          .split('\n')
          .filter((l) => l.includes('"component":"ha"'))
          .slice(-4)
          .map((l) => `${r.name}: ${l.slice(0, 300)}`),
      );
      throw new Error(`${err.message}; last seen ${seen}\n${ha.join('\n')}`, { cause: err });
    });
  }

  /** SIGSTOP: the process keeps its sockets but runs nothing (a long GC pause, a VM migration). */
  freeze(name: string): void {
    this.frozen.add(name);
    this.get(name).process.child.kill('SIGSTOP');
  }

  thaw(name: string): void {
    this.get(name).process.child.kill('SIGCONT');
    this.frozen.delete(name);
  }

  /** The lease holder as Redis has it. */
  holder(): Promise<string | null> {
    return this.reader.get(this.keys.leader);
  }

  /** How long the lease has left in Redis, ms (negative: no lease, or one without expiry). */
  leaseRemainingMs(): Promise<number> {
    return this.reader.pttl(this.keys.leader);
  }

  /** A follower on replica `name`'s fan-out (it resumes by itself after a drop). */
  follow(name: string): IcwatchClient {
    const f = new IcwatchClient({
      url: `ws://127.0.0.1:${this.get(name).process.port}${DEFAULTS.websocket.path}`,
      token: SECRETS.token,
      backoff: { initialMs: 50, maxMs: 500, multiplier: 2, jitter: 0.5 },
    });
    f.on('error', () => {});
    f.on('gap', () => this.followerGaps++);
    f.start();
    this.follower = f;
    return f;
  }

  /** Background churn: `perTick` changes every 100 ms until stopChurn(). */
  churn(perTick = 3): void {
    this.stopChurn();
    this.churner = setInterval(() => this.sim.control.churn(perTick), 100);
  }

  stopChurn(): void {
    clearInterval(this.churner);
    this.churner = undefined;
  }

  /** The stream holds 1..meta seq contiguously (what it still holds: it is trimmed, never gapped). */
  async seqProblem(): Promise<string | undefined> {
    const seq = Number((await this.reader.hget(this.keys.meta, 'seq')) ?? 0);
    const seqs = await streamSeqs(this.reader, this.keys);
    const gap = seqs.findIndex((s, i) => i > 0 && s !== seqs[i - 1]! + 1);
    if (gap > 0) return `gap: ${seqs[gap - 1]} then ${seqs[gap]}`;
    if (seqs.length && seqs[seqs.length - 1] !== seq) return `last entry ${seqs[seqs.length - 1]}, meta seq ${seq}`;
    return undefined;
  }

  /** mirror = simulator, follower = mirror at meta seq, no gap; throws with the last difference and recent log lines. */
  async converged(timeoutMs = 40000): Promise<{ users: number; seq: number }> {
    let last = '';
    try {
      return await waitFor(
        'convergence',
        async () => {
          const problem = await this.seqProblem();
          if (problem) return void (last = `change stream: ${problem}`);
          const mirror = await readMirror(this.reader, this.keys);
          const seq = Number(await this.reader.hget(this.keys.meta, 'seq'));
          const d1 = difference(subscribedUsers(this.sim.control.users()), mirror);
          if (d1) return void (last = `mirror vs simulator: ${d1}`);
          const f = this.follower;
          if (f && f.seq !== seq) return void (last = `follower at seq ${f.seq}, mirror at ${seq}`);
          // The follower holds each user's status too (presence): compare it with the mirror as a reader sees it.
          const d2 = f && difference(await readMirrorWithStatuses(this.reader, this.keys), f.users);
          if (d2) return void (last = `follower vs mirror: ${d2}`);
          return { users: mirror.size, seq };
        },
        timeoutMs,
        200,
      );
    } catch (err) {
      const lines = [...this.replicas.values()].flatMap((r) =>
        r
          .output()
          .split('\n')
          .filter(Boolean)
          .slice(-8)
          .map((l) => `${r.name}: ${l.slice(0, 300)}`),
      );
      throw new Error(`${(err as Error).message.split(':')[0]}; last difference: ${last}\nlast lines:\n${lines.join('\n')}`, { cause: err });
    }
  }

  /**
   * Log lines of `name` at warn level or above; but the daemon's "waiting for Redis" at start, which it says when its
   * connection is not ready yet at the first look (a start-up race of the daemon, not of two replicas).
   */
  warnings(name: string): string[] {
    return this.get(name)
      .output()
      .split('\n')
      .filter((l) => /"level":"(warn|error)"/.test(l) && !l.includes('"waiting for Redis at'));
  }

  async close(): Promise<void> {
    this.stopChurn();
    await this.follower?.stop().catch(() => {});
    for (const r of this.replicas.values()) {
      if (this.frozen.has(r.name)) this.thaw(r.name);
      await r.process.stop('SIGKILL').catch(() => {});
      await r.proxy?.close();
    }
    this.audit.stop();
    this.reader.disconnect();
    await this.redis.destroy();
    await this.sim.close();
  }
}
