/**
 * Redis topologies for tests of the redis.mode settings: a private Cluster (`size` masters on free ports, slots
 * assigned with `redis-cli --cluster create`) and a Sentinel watching a private server.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './net.js';

const run = promisify(execFile);

export interface PrivateCluster {
  /** host:port of every node. */
  readonly nodes: string[];
  destroy(): Promise<void>;
}

export async function startPrivateCluster(size = 3): Promise<PrivateCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'icwatch-cluster-'));
  const children: ChildProcess[] = [];
  const nodes: string[] = [];
  const destroy = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < size; i++) {
      const port = await freePort();
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ];
      children.push(spawn('redis-server', args, { stdio: 'ignore' }));
      nodes.push(`127.0.0.1:${port}`);
    }
    await waitFor('cluster nodes to answer', async () => {
      for (const n of nodes) await run('redis-cli', ['-p', n.split(':')[1]!, 'ping']);
      return true;
    });
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    await waitFor(
      'cluster_state:ok on every node',
      async () => {
        for (const n of nodes) {
          const { stdout } = await run('redis-cli', ['-p', n.split(':')[1]!, 'cluster', 'info']);
          if (!stdout.includes('cluster_state:ok')) return false;
        }
        return true;
      },
      20000,
      100,
    );
    return { nodes, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

export interface PrivateSentinel {
  /** host:port of the Sentinel. */
  readonly node: string;
  readonly masterName: string;
  destroy(): Promise<void>;
}

/**
 * One Sentinel (quorum 1) watching the master on `masterPort`, on a free port. `downAfterMs` / `failoverTimeoutMs`:
 * Sentinel's down-after-milliseconds and failover-timeout (its defaults, 30 s and 3 min, when absent).
 */
export async function startPrivateSentinel(
  masterPort: number,
  masterName = 'mymaster',
  timings: { downAfterMs?: number; failoverTimeoutMs?: number } = {},
): Promise<PrivateSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'icwatch-sentinel-'));
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  const lines = [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 1`];
  if (timings.downAfterMs) lines.push(`sentinel down-after-milliseconds ${masterName} ${timings.downAfterMs}`);
  if (timings.failoverTimeoutMs) lines.push(`sentinel failover-timeout ${masterName} ${timings.failoverTimeoutMs}`);
  // Sentinel rewrites its configuration file, so it gets one of its own.
  writeFileSync(conf, lines.join('\n') + '\n');
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const destroy = async () => {
    if (child.exitCode === null)
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'the Sentinel to know the master',
      async () => {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'sentinel', 'get-master-addr-by-name', masterName]);
        return stdout.includes(String(masterPort));
      },
      20000,
      100,
    );
    return { node: `127.0.0.1:${port}`, masterName, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}
