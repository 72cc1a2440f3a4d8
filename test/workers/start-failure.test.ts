/**
 * A worker that cannot start fails `icwatch run` with the worker's exit code and reason (README, "Shutdown,
 * restarts and exit codes"): the port is taken → exit 1 naming http.port; no worker is started again.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { runCli, killAll } from '../helpers/processes.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

describe('icwatch run when a worker cannot start', function () {
  this.timeout(60000);
  after(() => killAll());

  it('exits 1 and says which port is taken', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    try {
      const { code, stdout, stderr } = await runCli(
        ['run'],
        {
          ICWATCH_HTTP_HOST: '127.0.0.1',
          ICWATCH_HTTP_PORT: String(port),
          ICWATCH_REDIS_URL: SHARED_REDIS_URL,
          ICWATCH_REDIS_KEY_PREFIX: uniquePrefix('wfail'),
          ICWATCH_ROLE: 'fanout',
          ICWATCH_WEBSOCKET_WORKERS: '2',
        },
        40000,
      );
      expect(code).to.equal(1);
      expect(stderr).to.include(`port ${port} on 127.0.0.1 is already in use`).and.to.include('http.port');
      expect(stdout).to.not.match(/starting it again/);
    } finally {
      taken.close();
    }
  });
});
