/** `icwatch demo` (= npm start): everything on one machine, the URLs printed, clear words when Redis or the port is missing. */
import { createServer, type Server } from 'node:net';
import { expect } from 'chai';
import { redisAnswersAt } from '../../src/cli/demo.js';
import { waitFor } from '../helpers/net.js';
import { killAll, runCli, startCli } from '../helpers/processes.js';

describe('icwatch demo', function () {
  this.timeout(60000);
  after(() => killAll());

  it('starts a private redis-server when REDIS_URL is unset, prints the URLs, serves them, and stops everything on Ctrl-C', async () => {
    const demo = startCli(['demo', '--users', '20', '--churn', '5', '--port', '0'], { REDIS_URL: undefined });
    const statusLine = await demo.waitForOutput(/status page +http:\/\/127\.0\.0\.1:\d+\//, 30000);
    const base = /http:\/\/127\.0\.0\.1:\d+/.exec(statusLine)![0];
    // The URLs are written line by line: read them once the last one is in.
    await demo.waitForOutput(/Ctrl-C stops everything/, 30000);
    const out = demo.stdout();
    for (const what of ['metrics', 'WebSocket', 'follow changes', 'simulator API', 'Redis']) expect(out).to.include(what);
    expect(out).to.match(/tail --url ws:\/\/127\.0\.0\.1:\d+\/v1\/users/);
    const redisUrl = /Redis +(redis:\/\/127\.0\.0\.1:\d+) \(private redis-server/.exec(out)![1]!;

    await waitFor('the demo ready', async () => (await fetch(`${base}/readyz`)).status === 200, 20000, 100);
    const page = await (await fetch(`${base}/`)).text();
    expect(page).to.match(/<th>Users<\/th><td>\d+<\/td>/);

    demo.child.kill('SIGINT');
    expect(await demo.exited).to.equal(0);
    expect(await redisAnswersAt(redisUrl), 'the private redis-server is stopped').to.equal(false);
  });

  it('says the port is taken and suggests --port', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const { code, stderr } = await runCli(['demo', '--port', String(port)]);
      expect(code).to.equal(1);
      expect(stderr).to.include(`port ${port} on 127.0.0.1 is already in use`).and.to.include('--port');
    } finally {
      taken.close();
    }
  });

  it('says how to install Redis when there is neither REDIS_URL nor redis-server', async () => {
    const { code, stderr } = await runCli(['demo', '--port', '0'], { REDIS_URL: undefined, PATH: '/nonexistent' });
    expect(code).to.equal(1);
    expect(stderr).to.include('apt-get install redis-server').and.to.include('brew install redis');
  });
});
