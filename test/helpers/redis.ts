/**
 * Real Redis for tests: the shared server (REDIS_URL or 127.0.0.1:6379) under a unique key prefix per test, or a
 * private redis-server child on a free port for tests that stop and restart Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './net.js';

export const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test (or test run) uses. */
export function uniquePrefix(label = 'test'): string {
  return `icwatch-test:${label}:${randomBytes(4).toString('hex')}`;
}

/** Deletes every key of the mirror under `prefix` (its keys all carry the {prefix} hash tag). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  /** SIGKILL: gone at once, nothing saved or handed over. */
  kill(): Promise<void>;
  /** Start again on the same port (with `persist`, the data comes back from the append-only file). */
  start(): Promise<void>;
  /** Stop for good and remove its directory. */
  destroy(): Promise<void>;
}

/**
 * A redis-server of the test's own on a free port. `persist` keeps data across stop/start (append-only file);
 * `password` makes it require one (`--requirepass`), and `url` then carries it: redis://default:PASSWORD@….
 * `args` are further redis-server arguments (e.g. `--replicaof`). `kill()` ends it with SIGKILL (nothing saved).
 */
export async function startPrivateRedis(options: { persist?: boolean; password?: string; args?: string[] } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'icwatch-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--dir',
      dir,
      '--appendonly',
      options.persist ? 'yes' : 'no',
      '--appendfsync',
      'always',
    ];
    if (options.password) args.push('--requirepass', options.password);
    args.push(...(options.args ?? []));
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor(`redis-server on port ${port}`, async () => {
      const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, password: options.password });
      probe.on('error', () => {});
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    });
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill(signal);
    });
  };
  await start();
  return {
    port,
    url: options.password ? `redis://default:${encodeURIComponent(options.password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    stop: () => stop(),
    kill: () => stop('SIGKILL'),
    start,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
