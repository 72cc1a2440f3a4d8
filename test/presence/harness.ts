/** The presence tests' stack: icwatch's real stages in-process against an in-process simulator and the shared Redis. */
import { PassThrough } from 'node:stream';
import { DEFAULTS, type Config } from '../../src/config/defaults.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildStages } from '../../src/daemon/build-stages.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { Simulator } from '../../src/simulator/index.js';
import { SHARED_REDIS_URL } from '../helpers/redis.js';

export interface PresenceDaemon {
  daemon: Daemon;
  metrics: Metrics;
  /** Everything icwatch logged so far (JSON lines). */
  log(): string;
  /** The value of one series on /metrics (0 when absent). */
  metricValue(name: string, labels?: string): Promise<number>;
}

/** A started daemon following `sim` into `prefix`, with short backoffs; `configure` changes the rest. */
export async function startPresenceDaemon(sim: Simulator, prefix: string, configure: (config: Config) => void = () => {}): Promise<PresenceDaemon> {
  const config: Config = structuredClone(DEFAULTS);
  config.icws.url = sim.url;
  config.icws.password = 'icwatch';
  config.icws.backoff = { ...config.icws.backoff, initialMs: 50, maxMs: 300 };
  config.redis.url = SHARED_REDIS_URL;
  config.redis.keyPrefix = prefix;
  config.http.port = 0;
  config.presence.subscribeDebounceMs = 100;
  configure(config);
  let text = '';
  const out = new PassThrough();
  out.on('data', (d: Buffer) => (text += d.toString()));
  const metrics = new Metrics({ defaultMetrics: false });
  const daemon = new Daemon(config, { logger: createLogger({ stream: out, level: 'debug' }), buildStages, metrics });
  await daemon.start();
  return {
    daemon,
    metrics,
    log: () => text,
    async metricValue(name, labels = '') {
      const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`${name}${labels} `));
      return line === undefined ? 0 : Number(line.split(' ')[1]);
    },
  };
}
