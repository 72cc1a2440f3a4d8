/** `icwatch tail`: one line per change, a snapshot summary, raw frames with --json, exit 0 on SIGINT. */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { tailCommand } from '../../src/cli/tail.js';
import { waitFor } from '../helpers/net.js';
import { useFixture } from './harness.js';

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

describe('icwatch tail', function () {
  const f = useFixture('fanout-tail', { users: 3, fanout: { tokens: ['tail-token'] } });

  it('prints a snapshot summary then one line per change, and never the token', async () => {
    const out = capture();
    const err = capture();
    const stop = new AbortController();
    const done = tailCommand({ url: f.h.url, token: 'tail-token' }, { stdout: out.stream, stderr: err.stream, signal: stop.signal });
    await waitFor('snapshot line', () => out.lines().length === 1);
    await f.writer.upsert('u1', { statusText: 'Away' });
    await f.writer.remove('u2');
    await waitFor('change lines', () => out.lines().length === 3);
    expect(out.lines()).to.deep.equal(['snapshot seq=3 users=3', '4 upsert u1 {"statusText":"Away"}', '5 remove u2']);
    expect(err.lines().join('\n')).to.not.include('tail-token');
    stop.abort();
    expect(await done).to.equal(0);
  });

  it('prints raw frames with --json, and exits 2 on a refused query', async () => {
    const out = capture();
    const stop = new AbortController();
    const done = tailCommand(
      { url: f.h.url, token: 'tail-token', json: true, since: 2, ids: 'u0,u2' },
      { stdout: out.stream, stderr: new PassThrough(), signal: stop.signal },
    );
    await waitFor('hello and the missed change', () => out.lines().length === 2);
    expect(JSON.parse(out.lines()[0]!)).to.include({ type: 'hello', seq: 3 });
    expect(JSON.parse(out.lines()[1]!)).to.deep.equal({
      type: 'upsert',
      seq: 3,
      id: 'u2',
      data: { configurationId: { id: 'u2', displayName: 'u2' }, extension: '1002' },
    });
    stop.abort();
    expect(await done).to.equal(0);

    const bad = tailCommand({ url: f.h.url, token: 'tail-token', props: 'not-a-prop' }, { stdout: new PassThrough(), stderr: new PassThrough() });
    expect(await bad).to.equal(2);
  });

  it('runs as a command and exits 0 on SIGINT', async function () {
    this.timeout(20000);
    const child = spawn(process.execPath, ['bin/icwatch.js', 'tail', '--url', f.h.url, '--token', 'tail-token'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await waitFor('snapshot line', () => out.includes('snapshot seq=3 users=3'), 15000);
    const code = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    child.kill('SIGINT');
    expect(await code).to.equal(0);
  });
});
