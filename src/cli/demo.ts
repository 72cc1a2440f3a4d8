/**
 * `icwatch demo` (= `npm start`): the simulator in-process with generated users and churn, Redis (REDIS_URL when it
 * answers, else a private redis-server child), and the daemon; prints the URLs. Ctrl-C stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { DEFAULTS } from '../config/defaults.js';
import { createRedisClient, type RedisClient } from '../redis/client.js';
import { createLogger, componentLogger, silentLogger, type Logger } from '../log/logger.js';
import { startSimulator, type Simulator } from '../simulator/index.js';
import { keyNamesToShow } from '../mirror/keys.js';
import { EXIT } from '../errors/exit-codes.js';
import { loadOrExplain } from './load-config.js';
import { exitSoon, runDaemon } from './run.js';

export interface DemoOptions {
  users: number;
  churn: number;
  port: number;
}

/** Key prefix of the demo's mirror: never the default, so a demo on a shared Redis leaves a real mirror alone. */
export const DEMO_KEY_PREFIX = 'icwatch:demo';
/** How long a Redis candidate has to answer PING, and a private redis-server to come up. */
const REDIS_PING_TIMEOUT_MS = 1000;
const REDIS_START_TIMEOUT_MS = 10000;
const HTTP_HOST = '127.0.0.1';

const say = (text: string) => process.stdout.write(`${text}\n`);
const complain = (text: string) => process.stderr.write(`icwatch demo: ${text}\n`);

/** True when something answers PING at `url` within the timeout. */
export async function redisAnswersAt(url: string, timeoutMs = REDIS_PING_TIMEOUT_MS): Promise<boolean> {
  let probe: RedisClient;
  try {
    probe = createRedisClient({ ...DEFAULTS.redis, url }, silentLogger(), { probe: true, connectTimeoutMs: timeoutMs });
  } catch {
    return false;
  }
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Null when the port can be listened on; else the error code (EADDRINUSE, EACCES). */
function portProblem(host: string, port: number): Promise<string | null> {
  if (port === 0) return Promise.resolve(null);
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    srv.listen(port, host, () => srv.close(() => resolve(null)));
  });
}

interface DemoRedis {
  url: string;
  description: string;
  stop(): Promise<void>;
}

/** REDIS_URL / ICWATCH_REDIS_URL if it answers, else a private redis-server, else null (with the reason said). */
async function findRedis(log: Logger): Promise<DemoRedis | null> {
  for (const url of [process.env.ICWATCH_REDIS_URL, process.env.REDIS_URL]) {
    if (!url) continue;
    if (await redisAnswersAt(url)) return { url, description: 'reachable', stop: async () => {} };
    log.debug(`no Redis answers at ${url.replace(/\/\/[^@]*@/, '//')}`);
  }
  const port = await freePort();
  let child: ChildProcess;
  try {
    // Its own process group: a Ctrl-C in the terminal must not stop Redis before the daemon has drained its writes.
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore', detached: true });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const killChild = () => child.kill('SIGTERM');
  process.once('exit', killChild);
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
  while (!(await redisAnswersAt(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      killChild();
      throw new Error(`the private redis-server on port ${port} did not start`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    description: `private redis-server child on port ${port}, stopped with the demo`,
    stop: async () => {
      process.off('exit', killChild);
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        killChild();
      });
    },
  };
}

function printUrls(httpPort: number, sim: Simulator, password: string, redis: DemoRedis, keyPrefix: string): void {
  const base = `http://${HTTP_HOST}:${httpPort}`;
  const ws = `ws://${HTTP_HOST}:${httpPort}`;
  const simBase = sim.url.replace(/\/icws$/, '');
  const redisPort = new URL(redis.url).port || '6379';
  say('');
  say('icwatch demo is running');
  say(`  status page      ${base}/`);
  say(`  metrics          ${base}/metrics`);
  say(`  health           ${base}/healthz   ${base}/readyz`);
  say(`  WebSocket        ${ws}/v1/users`);
  say(`  follow changes   node bin/icwatch.js tail --url ${ws}/v1/users`);
  say(`  ICWS simulator   ${sim.url}   (user icwatch, password ${password})`);
  say(`  simulator API    ${simBase}/_sim/users   ${simBase}/_sim/requests`);
  say(`                   curl -XPOST ${simBase}/_sim/users/<id> -H 'content-type: application/json' -d '{"statusText":"At lunch"}'`);
  say(`  Redis            ${redis.url} (${redis.description}), key prefix ${keyPrefix}`);
  say(`                   redis-cli -p ${redisPort} HGETALL '${keyNamesToShow(keyPrefix).meta}'`);
  say('Ctrl-C stops everything.');
  say('');
}

export async function demoCommand(opts: DemoOptions): Promise<number> {
  // The demo runs in a terminal: pretty logs unless the environment asks otherwise (a bad value is reported by the config check below).
  const level = process.env.ICWATCH_LOG_LEVEL;
  const logger = createLogger({
    level: level === 'error' || level === 'warn' || level === 'debug' ? level : 'info',
    format: process.env.ICWATCH_LOG_FORMAT === 'json' ? 'json' : 'pretty',
  });
  const problem = await portProblem(HTTP_HOST, opts.port);
  if (problem) {
    complain(
      problem === 'EADDRINUSE'
        ? `port ${opts.port} on ${HTTP_HOST} is already in use (another icwatch?). Choose another: npm start -- --port ${opts.port + 1}  (or icwatch demo --port ${opts.port + 1})`
        : `cannot listen on ${HTTP_HOST}:${opts.port} (${problem}). Choose another port with --port`,
    );
    return EXIT.failure;
  }

  const redis = await findRedis(logger);
  if (!redis) {
    complain(
      'no Redis found: REDIS_URL (or ICWATCH_REDIS_URL) is not set or does not answer, and redis-server is not installed.\n' +
        '  Install it:  apt-get install redis-server   (Debian/Ubuntu)\n' +
        '               brew install redis             (macOS)\n' +
        '  or point the demo at a running Redis:  REDIS_URL=redis://host:6379 npm start',
    );
    return EXIT.failure;
  }

  let sim: Simulator | undefined;
  try {
    // A password of its own: the usual icwatch/icwatch would make every "icwatch" in the log a redacted secret.
    const password = `demo-${randomBytes(6).toString('hex')}`;
    sim = await startSimulator({ users: opts.users, churnPerSec: opts.churn, seed: 1, password, logger: componentLogger(logger, 'simulator') });
    const env = {
      ...process.env,
      ICWATCH_REDIS_KEY_PREFIX: process.env.ICWATCH_REDIS_KEY_PREFIX ?? DEMO_KEY_PREFIX,
      ICWATCH_LOG_FORMAT: process.env.ICWATCH_LOG_FORMAT ?? 'pretty',
    };
    const config = loadOrExplain({
      env,
      overrides: {
        role: 'all',
        icws: { url: sim.url, user: 'icwatch', password, passwordFile: '' },
        redis: { url: redis.url, mode: 'standalone' },
        http: { host: HTTP_HOST, port: opts.port },
      },
    });
    if (typeof config === 'number') return config;
    const s = sim;
    const code = await runDaemon(config, logger, {
      onRunning: (daemon) => printUrls(daemon.httpPort ?? opts.port, s, password, redis, config.redis.keyPrefix),
    });
    return exitSoon(code, 500);
  } finally {
    await sim?.close();
    await redis.stop();
  }
}
