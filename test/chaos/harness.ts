/**
 * The fault-tolerance harness (issue 7): icwatch as a child process at debug level, the ICWS simulator in this
 * process (so faults are injected directly), a private redis-server that a test may stop, and a WebSocket follower
 * that holds the state the fan-out gave it. `converged()` is the one verdict every fault ends with: the mirror equals
 * the simulator's truth, the follower equals the mirror, and the change stream's seq has no gaps.
 */
import { Redis } from 'ioredis';
import { DEFAULTS } from '../../src/config/defaults.js';
import { IcwatchClient } from '../../src/client/index.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { difference, readMirror, readMirrorWithStatuses, subscribedUsers, type Props } from '../helpers/mirror.js';
import { waitFor } from '../helpers/net.js';
import { startIcwatch, type IcwatchProcess } from '../helpers/processes.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../helpers/redis.js';

/** Secrets the run is given; none may appear in any output. */
export const SECRETS = { password: 'Chaos-Pa55word-7f3e', token: 'chaos-token-b81c55d2e0' };

/** Short backoffs and timeouts, so that a fault and its recovery fit in a test. */
export const FAULT_TIMINGS: Record<string, string> = {
  ICWATCH_ICWS_BACKOFF_INITIAL_MS: '50',
  ICWATCH_ICWS_BACKOFF_MAX_MS: '1000',
  ICWATCH_REDIS_BACKOFF_INITIAL_MS: '50',
  ICWATCH_REDIS_BACKOFF_MAX_MS: '1000',
  ICWATCH_ICWS_REQUEST_TIMEOUT_MS: '2000',
  ICWATCH_ICWS_POLL_INTERVAL_MS: '50',
};

export interface StackOptions {
  users?: number;
  seed?: number;
  /** Extra ICWATCH_* variables for icwatch. */
  env?: Record<string, string>;
  simulator?: SimulatorOptions;
  /** Use an already running simulator (switchover tests start their own pair). */
  sim?: Simulator;
  /**
   * Another Redis than one private server (a master with a replica and a Sentinel): `redis` is destroyed by close(),
   * `reader` reads the mirror (it must follow a failover), `env` tells icwatch where it is.
   */
  topology?: { redis: PrivateRedis; reader: Redis; env: Record<string, string> };
  /** Runs before icwatch starts (e.g. creates an ACL user); returns further ICWATCH_* variables. */
  prepare?: (redis: PrivateRedis, reader: Redis) => Promise<Record<string, string>>;
}

export class Stack {
  private constructor(
    readonly sim: Simulator,
    readonly redis: PrivateRedis,
    readonly reader: Redis,
    readonly prefix: string,
    readonly env: Record<string, string>,
    public icwatch: IcwatchProcess,
    readonly follower: IcwatchClient,
    private readonly ownsSim: boolean,
  ) {}

  /** Everything icwatch has written, across restarts. */
  private pastOutput = '';
  get keys() {
    return mirrorKeys(this.prefix);
  }

  static async start(options: StackOptions = {}): Promise<Stack> {
    const sim =
      options.sim ??
      (await startSimulator({ users: options.users ?? 300, seed: options.seed ?? 7, password: SECRETS.password, ssePingMs: 1000, ...options.simulator }));
    const redis = options.topology?.redis ?? (await startPrivateRedis({ persist: true }));
    const reader = options.topology?.reader ?? new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    reader.on('error', () => {});
    const prefix = uniquePrefix('chaos');
    const env: Record<string, string> = {
      ICWATCH_ICWS_URL: sim.url,
      ICWATCH_ICWS_PASSWORD: SECRETS.password,
      ICWATCH_REDIS_URL: redis.url,
      ICWATCH_REDIS_KEY_PREFIX: prefix,
      ICWATCH_LOG_LEVEL: 'debug',
      ...FAULT_TIMINGS,
      ICWATCH_ICWS_SSE_IDLE_TIMEOUT_MS: '3000',
      ICWATCH_WEBSOCKET_TOKENS: SECRETS.token,
      ...options.topology?.env,
      ...(await options.prepare?.(redis, reader)),
      ...options.env,
    };
    const icwatch = await startIcwatch(env);
    const follower = new IcwatchClient({
      url: `ws://127.0.0.1:${icwatch.port}${DEFAULTS.websocket.path}`,
      token: SECRETS.token,
      backoff: { initialMs: 50, maxMs: 500, multiplier: 2, jitter: 0.5 },
    });
    follower.on('error', () => {});
    follower.start();
    const stack = new Stack(sim, redis, reader, prefix, env, icwatch, follower, !options.sim);
    return stack;
  }

  /** Every line icwatch wrote (stdout and stderr), all runs. */
  output(): string {
    return this.pastOutput + this.icwatch.stdout() + this.icwatch.stderr();
  }

  /** Kill icwatch (SIGKILL by default) and start it again on the same Redis; the follower reconnects by itself to the new port. */
  async restartIcwatch(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.icwatch.stop(signal);
    this.pastOutput += this.icwatch.stdout() + this.icwatch.stderr();
    this.icwatch = await startIcwatch({ ...this.env, ICWATCH_HTTP_PORT: String(this.icwatch.port) });
  }

  mirror(): Promise<Map<string, Props>> {
    return readMirror(this.reader, this.keys);
  }

  /** The mirror as a follower holds it: the users with their statuses (presence). */
  followedMirror(): Promise<Map<string, Props>> {
    return readMirrorWithStatuses(this.reader, this.keys);
  }

  truth(sim: Simulator = this.sim): Map<string, Props> {
    return subscribedUsers(sim.control.users(), this.env.ICWATCH_SUBSCRIPTION_PROPERTIES?.split(','));
  }

  /** The stream's seqs are 1..meta.seq with no gap in what the stream still holds; returns meta seq. */
  async seqProblems(): Promise<{ seq: number; problem?: string }> {
    const seq = Number((await this.reader.hget(this.keys.meta, 'seq')) ?? 0);
    const entries = await this.reader.xrange(this.keys.changes, '-', '+');
    let previous: number | undefined;
    for (const [id, fields] of entries) {
      const s = Number(fields[fields.indexOf('seq') + 1]);
      if (id !== `${s}-0`) return { seq, problem: `entry ${id} carries seq ${s}` };
      if (previous !== undefined && s !== previous + 1) return { seq, problem: `gap: ${previous} then ${s}` };
      previous = s;
    }
    if (previous !== undefined && previous !== seq) return { seq, problem: `last entry ${previous}, meta seq ${seq}` };
    return { seq };
  }

  /**
   * Waits until mirror = truth, follower = mirror at meta seq, and no seq gap; throws with the first difference.
   * `sim` names the simulator whose users are the truth (after a switchover, the alternate one).
   */
  async converged(timeoutMs = 30000, sim: Simulator = this.sim): Promise<{ users: number; seq: number }> {
    let last = '';
    try {
      return await waitFor(
        'convergence',
        async () => {
          let mirror: Map<string, Props>, seq: number, problem: string | undefined;
          try {
            [mirror, { seq, problem }] = [await this.mirror(), await this.seqProblems()];
          } catch (err) {
            return void (last = `reading Redis: ${(err as Error).message}`);
          }
          if (problem) return void (last = `change stream: ${problem}`);
          const d1 = difference(this.truth(sim), mirror);
          if (d1) return void (last = `mirror vs simulator: ${d1}`);
          if (this.follower.seq !== seq) return void (last = `follower at seq ${this.follower.seq}, mirror at ${seq}`);
          const d2 = difference(await this.followedMirror(), this.follower.users);
          if (d2) return void (last = `follower vs mirror: ${d2}`);
          return { users: mirror.size, seq };
        },
        timeoutMs,
        200,
      );
    } catch (err) {
      const recent = this.output()
        .split('\n')
        .filter((l) => l && !l.includes('"level":"debug"'))
        .slice(-15)
        .map((l) => l.slice(0, 300));
      throw new Error(`${(err as Error).message.split(':')[0]}; last difference: ${last}\nicwatch's last lines:\n${recent.join('\n')}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.follower.stop().catch(() => {});
    await this.icwatch.stop('SIGTERM').catch(() => {});
    this.reader.disconnect();
    await this.redis.destroy();
    if (this.ownsSim) await this.sim.close();
  }
}

/** Secrets that must never be printed: the configured ones plus every session credential the simulator handed out. */
export function leakedSecrets(output: string, extra: string[] = []): string[] {
  return [SECRETS.password, SECRETS.token, ...extra].filter((s) => s && output.includes(s));
}
