/**
 * The long-lived process: builds the Redis client, metrics, HTTP server and stages from Config; while this replica
 * leads (src/ha), runs the message pipeline (its commits wake the fan-out); shuts down in order on a signal or a
 * fatal error. DaemonState: starting → running → draining → stopped (exit 0), or → failed (exit code) from any state.
 * Which process it is (DaemonProcess: single, or the primary or a worker of `icwatch run`) decides whether it serves
 * HTTP, whether it may write, and whether its answers are merged with a primary's.
 */
import type { Config } from '../config/defaults.js';
import { HttpServer } from '../http/server.js';
import type { Readiness, StatusView } from '../http/types.js';
import { componentLogger, type Logger } from '../log/logger.js';
import { registerSecret } from '../log/redact.js';
import { Metrics } from '../metrics/metrics.js';
import { EXIT, exitCodeOf } from '../errors/exit-codes.js';
import { replicaReadiness } from './readiness.js';
import { icwsWarnings } from './start-warnings.js';
import { createRedisClient, describeRedis, quitRedis, redisAnswers, type RedisClient } from '../redis/client.js';
import { runShutdown, type ShutdownStep } from './shutdown.js';
import type { FanoutStage, LeaderStagesFactory, Stages } from '../stages/contracts.js';
import { statusView } from './status.js';
import type { DaemonOptions, DaemonProcess, DaemonState } from './daemon-options.js';
import { lagHistograms } from '../http/status-json.js';
import { packageVersion, runningFrom } from '../util/version.js';
import { Backoff, sleep } from '../util/backoff.js';
import type { Leadership } from '../ha/leadership.js';
import { createLeadership } from '../ha/setup.js';
import { LeadershipTerm } from '../ha/leadership-term.js';
import { MirrorReader } from '../mirror/reader.js';
import { sitePolicy } from './site-policy.js';

export type { DaemonOptions, DaemonProcess, DaemonState, PrimaryLink } from './daemon-options.js';

/** A process that writes the mirror while it leads (role all, not a worker): its leadership, and the running term. */
interface Leading {
  leadership: Leadership;
  /** The ICWS feed and mirror writer while this replica leads. */
  term?: LeadershipTerm;
}

export class Daemon {
  readonly metrics: Metrics;
  readonly version = packageVersion();
  /** Resolves with the process exit code once the daemon has stopped or failed. */
  readonly exited: Promise<number>;
  private resolveExit!: (code: number) => void;
  private current: DaemonState = { type: 'starting' };
  private readonly log: Logger;
  private readonly process: DaemonProcess;
  private redis?: RedisClient;
  private readonly subscribers: RedisClient[] = [];
  private http?: HttpServer;
  private stages?: Stages;
  /** Which replica writes (src/ha), once started; role all, not a worker. */
  private leading?: Leading;
  private fanoutStarted = false;
  private shutdown?: Promise<number>;
  private lastError?: string;
  /** Aborted when the shutdown begins: ends the waits of the start. */
  private readonly stopping = new AbortController();

  constructor(
    readonly config: Config,
    private readonly options: DaemonOptions,
  ) {
    this.metrics = options.metrics ?? new Metrics();
    this.process = options.process ?? { type: 'single' };
    this.log = componentLogger(options.logger, 'daemon');
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get state(): DaemonState {
    return this.current;
  }

  /** The HTTP port actually bound (http.port may be 0). */
  get httpPort(): number | undefined {
    return this.http?.port;
  }

  /** Start every part; resolves once running. A failure starts the shutdown and is reported through `exited`. */
  async start(): Promise<void> {
    const { config } = this;
    try {
      registerSecret(config.icws.password, [config.icws.user, config.icws.applicationName]);
      for (const token of config.websocket.tokens) registerSecret(typeof token === 'string' ? token : token.token);
      this.log.info(`icwatch ${this.version} starting`, {
        role: config.role,
        runs: runningFrom(),
        redis: describeRedis(config.redis),
        icws: config.role === 'all' ? config.icws.url : undefined,
      });
      for (const warning of icwsWarnings(config)) this.log.warn(warning);

      const redisLogger = componentLogger(this.options.logger, 'redis');
      this.redis = createRedisClient(config.redis, redisLogger);
      if (this.process.type !== 'primary') await this.listen(this.redis);
      if (this.shutdown) return;

      this.stages = await this.options.buildStages({
        config,
        redis: this.redis,
        createSubscriber: () => this.newSubscriber('icwatch-notify'),
        metrics: this.metrics,
        logger: this.options.logger,
        version: this.version,
      });
      const { fanout } = this.stages;
      // A worker serves the fan-out alone, whatever its stage factory builds.
      const leader = this.process.type === 'worker' ? undefined : this.stages.leader;
      if (this.http) fanout.attach(this.http.server);
      // A daemon outlives a Redis that is not up yet: wait (readyz says so) rather than exit into a restart loop.
      if (!(await this.waitForRedis())) return;
      // Worker processes follow the mirror from Redis themselves: the writer need not wait for them to listen.
      const writerFirst = fanout.followsOnItsOwn === true;
      if (leader && writerFirst) this.startLeadership(leader, fanout);
      await fanout.start();
      this.fanoutStarted = true;
      if (leader && !writerFirst && !this.shutdown) this.startLeadership(leader, fanout);
      if (this.shutdown) return;
      this.current = { type: 'running', since: Date.now() };
      this.log.info('running');
    } catch (err) {
      void this.fail(err, 'start failed');
    }
  }

  private async listen(redis: RedisClient): Promise<void> {
    const { config } = this;
    const primary = this.process.type === 'worker' ? this.process.primary : undefined;
    this.http = new HttpServer({
      host: config.http.host,
      port: config.http.port,
      metrics: this.metrics,
      readiness: () => this.readiness(),
      status: () => this.status(),
      logger: componentLogger(this.options.logger, 'http'),
      // A worker's lag chart: the primary's redis stage with this worker's websocket stage.
      ...(primary ? { lagHistograms: async () => primary.lagHistograms(await lagHistograms(this.metrics)) } : {}),
      reads: {
        redis,
        keyPrefix: config.redis.keyPrefix,
        path: config.websocket.path,
        tokens: config.websocket.tokens,
        properties: config.subscription.properties,
        presence: config.presence,
        indexedProperties: config.redis.indexedProperties,
        limits: config.http.bodies,
      },
      site: sitePolicy(config),
    });
    const port = await this.http.listen();
    this.log.info(`HTTP on http://${config.http.host}:${port} (/metrics, /healthz, /readyz, WebSocket ${config.websocket.path})`);
    this.options.onListening?.(port);
  }

  /**
   * High availability (src/ha): every replica serves the fan-out; the one holding the lease runs a LeadershipTerm
   * (the ICWS feed and the mirror writer), started when it wins the lease and stopped when it loses it or shuts down.
   */
  private startLeadership(build: LeaderStagesFactory, fanout: FanoutStage): void {
    const logger = this.options.logger;
    const leadership = createLeadership({
      config: this.config,
      redis: this.newSubscriber('icwatch-lease'),
      createSubscriber: () => this.newSubscriber('icwatch-leader'),
      metrics: this.metrics,
      logger,
      startTerm: async (termFence) => {
        const drainTimeoutMs = () => {
          const deadline = this.current.type === 'draining' ? this.current.deadline : Date.now() + this.config.shutdown.timeoutMs;
          return Math.max(deadline - Date.now(), 0);
        };
        const term = new LeadershipTerm(termFence, { build, fanout, drainTimeoutMs, onFatal: (err, context) => void this.fail(err, context), logger });
        leading.term = term;
        return {
          stop: async (how) => {
            await term.stop(how);
            if (leading.term === term) leading.term = undefined;
            // The next leader says how many removals are held; a standby holds none of its own.
            this.metrics.removalsHeld.set(0);
          },
        };
      },
    });
    const leading: Leading = { leadership };
    this.leading = leading;
    leadership.start();
  }

  /** Resolves true once Redis answers PING (retrying with redis.backoff), false when a shutdown began meanwhile. */
  private async waitForRedis(): Promise<boolean> {
    const backoff = new Backoff(this.config.redis.backoff);
    let said = false;
    while (!this.shutdown) {
      if (this.redis && (await redisAnswers(this.redis, undefined, !said))) {
        if (said) this.log.info('Redis answers; starting');
        if (this.current.type === 'starting') this.current = { type: 'starting' };
        return true;
      }
      if (this.current.type === 'starting') this.current = { type: 'starting', waiting: 'waiting for Redis' };
      if (!said) this.log.warn(`waiting for Redis at ${describeRedis(this.config.redis)} (retrying with redis.backoff)`);
      said = true;
      try {
        await sleep(backoff.next(), this.stopping.signal);
      } catch {
        return false;
      }
    }
    return false;
  }

  /** Another connection to Redis (for SUBSCRIBE, or the lease), closed with the others at shutdown. */
  private newSubscriber(connectionName: string): RedisClient {
    const sub = createRedisClient(this.config.redis, componentLogger(this.options.logger, 'redis'), { connectionName });
    this.subscribers.push(sub);
    return sub;
  }

  /** Graceful stop (SIGTERM/SIGINT): resolves with the exit code, also given by `exited`. */
  stop(reason: string): Promise<number> {
    return this.beginShutdown(EXIT.ok, reason);
  }

  /** A fatal error: log it clearly, shut down, exit with its code (78 for configuration and 410 Gone). */
  fail(err: unknown, context: string): Promise<number> {
    const code = exitCodeOf(err);
    const message = (err as Error)?.message ?? String(err);
    this.lastError = message;
    const route = (err as { route?: string } | undefined)?.route;
    if (!this.shutdown) this.log.error(`${context}: ${message}`, { error: (err as Error)?.name, exitCode: code, ...(route ? { route } : {}) });
    return this.beginShutdown(code, message);
  }

  private beginShutdown(code: number, reason: string): Promise<number> {
    if (this.shutdown) return this.shutdown;
    this.stopping.abort();
    const { timeoutMs } = this.config.shutdown;
    this.current = { type: 'draining', reason, deadline: Date.now() + timeoutMs };
    this.log.info(`shutting down: ${reason}`);
    // Read the stages when each step runs: a signal may come while they are still being built.
    const stage = () => this.stages ?? ({} as Partial<Stages>);
    const steps: ShutdownStep[] = [
      // The leader's last writes go in before the lease is released, so the standby taking over starts from them.
      {
        name: 'stopping the ICWS feed (DELETE subscription, DELETE connection), draining Redis writes, releasing the leader lease',
        run: async () => this.leading?.leadership.stop(),
      },
      { name: 'closing WebSocket clients (1001)', run: async () => stage().fanout?.close() },
      { name: 'closing the HTTP server', run: async () => this.http?.close() },
      {
        name: 'closing Redis connections',
        run: () => Promise.all([this.redis, ...this.subscribers].map(async (c) => c && quitRedis(c))).then(() => undefined),
      },
    ];
    this.shutdown = runShutdown(steps, timeoutMs, this.log).then((outcome) => {
      const exitCode = outcome.hung ? EXIT.failure : code;
      if (outcome.hung) {
        this.log.error(`shutdown did not finish within ${timeoutMs} ms (shutdown.timeoutMs): ${outcome.hung} hung; exiting 1`);
        // The steps after the one that hung never ran: let go of sockets at once.
        this.leading?.term?.abandon();
        for (const c of [this.redis, ...this.subscribers]) c?.disconnect();
        this.http?.server.closeAllConnections();
        this.http?.server.close();
        this.current = { type: 'failed', exitCode, reason: `shutdown hung: ${outcome.hung}` };
      } else if (exitCode === EXIT.ok) {
        this.current = { type: 'stopped', exitCode: 0 };
        this.log.info('stopped');
      } else {
        this.current = { type: 'failed', exitCode, reason };
        this.log.error(`exiting ${exitCode}: ${reason}`);
      }
      this.resolveExit(exitCode);
      return exitCode;
    });
    return this.shutdown;
  }

  async readiness(): Promise<Readiness> {
    const own = await this.ownReadiness();
    return this.process.type === 'worker' ? this.process.primary.readiness(own) : own;
  }

  private ownReadiness(): Promise<Readiness> {
    const worker = this.process.type === 'worker';
    return replicaReadiness({
      // A worker serves the fan-out alone: the primary's half (session, mirror, leader) is merged in by readiness().
      writes: this.config.role === 'all' && !worker,
      term: this.leading?.term,
      leadership: this.leading?.leadership,
      redis: this.redis,
      fanoutStarted: this.fanoutStarted,
      daemon: this.current.type,
      waiting: this.current.type === 'starting' ? this.current.waiting : undefined,
      lastError: this.lastError,
      // The leader says it from memory; a standby (or a role fanout process) reads it from Redis. A worker: the primary.
      removalsHeld: worker || !this.redis ? undefined : () => new MirrorReader(this.redis!, this.config.redis.keyPrefix).heldCount(),
    });
  }

  async status(): Promise<StatusView> {
    const { feed, mirror } = this.leading?.term ?? {};
    const own = await statusView({
      config: this.config,
      feed,
      mirror,
      fanout: this.stages?.fanout,
      leadership: this.leading?.leadership,
      redis: this.redis,
      metrics: this.metrics,
      version: this.version,
      daemon: this.current.type,
      lastError: this.lastError,
    });
    return this.process.type === 'worker' ? this.process.primary.status(own) : own;
  }
}
