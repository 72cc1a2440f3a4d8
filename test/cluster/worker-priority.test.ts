/** Lowering a worker's priority reaches every thread it has (on Linux a priority is a thread's, setpriority(2)). */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { getPriority } from 'node:os';
import { expect } from 'chai';
import { lowerPriority, threadsOf } from '../../src/cluster/worker-priority.js';

describe('cluster: lowering a worker process priority', () => {
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    child = undefined;
  });

  it('lowers every thread of a running node process, those started before as well', async () => {
    // A node process that has started its threads (platform, libuv) and says so.
    child = spawn(process.execPath, ['-e', "require('node:fs').stat('.', () => console.log('up')); setInterval(() => {}, 1000)"], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await once(child.stdout!, 'data');
    const threads = threadsOf(child.pid!);
    expect(threads.length, 'a node process has threads besides its main one').to.be.greaterThan(1);
    expect(lowerPriority(child.pid!, 3)).to.equal(undefined);
    const expected = Math.min(getPriority() + 3, 19);
    for (const tid of threadsOf(child.pid!)) expect(getPriority(tid), `thread ${tid}`).to.equal(expected);
  });

  it('a process that is gone is no refusal', async () => {
    child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    expect(lowerPriority(child.pid!, 3)).to.equal(undefined);
  });
});
