/**
 * Logs: JSON lines with level, message and component (pretty on request), and no secret at any level. A real
 * icwatch runs at debug level against the simulator, through a recording proxy that learns every session cookie and
 * CSRF token the server hands out; changes, a session expiry and a WebSocket client with a token go by; then the
 * whole output is searched for each secret.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { IcwatchClient } from '../../src/client/index.js';
import { componentLogger, createLogger } from '../../src/log/logger.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import type { SimUser } from '../helpers/mirror.js';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { killAll, startIcwatch, startSimulatorProcess, type IcwatchProcess, type SimulatorProcess } from '../helpers/processes.js';

/** A pass-through HTTP proxy to the simulator that keeps every cookie value and CSRF token it hands out. */
function recordingProxy(targetPort: number): Promise<{ server: Server; port: number; secrets: Set<string> }> {
  const secrets = new Set<string>();
  const server = createServer((req, res) => {
    const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
      for (const cookie of ([] as string[]).concat(up.headers['set-cookie'] ?? [])) secrets.add(cookie.slice(cookie.indexOf('=') + 1).split(';')[0]!);
      const csrf = up.headers['inin-icws-csrf-token'];
      if (typeof csrf === 'string') secrets.add(csrf);
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, secrets })));
}

describe('logs', function () {
  this.timeout(60000);

  it('writes JSON lines with level, message and component, and a pretty line on request', () => {
    const json = new PassThrough();
    const pretty = new PassThrough();
    componentLogger(createLogger({ stream: json }), 'mirror').info('applied', { seq: 3 });
    componentLogger(createLogger({ stream: pretty, format: 'pretty' }), 'fanout').warn('slow consumer');
    const line = JSON.parse(String(json.read())) as Record<string, unknown>;
    expect(line).to.include({ level: 'info', message: 'applied', component: 'mirror', seq: 3 });
    expect(String(pretty.read())).to.match(/^\d\d:\d\d:\d\d\.\d{3} warn +\[fanout\] slow consumer\n$/);
  });

  describe('a real run at debug level', () => {
    const password = 'Pw-never-in-logs-7731';
    const token = 'Tok-never-in-logs-5512';
    let redis: Redis;
    let prefix: string;
    let sim: SimulatorProcess;
    let proxy: Awaited<ReturnType<typeof recordingProxy>>;
    let icwatch: IcwatchProcess | undefined;
    let client: IcwatchClient | undefined;

    before(async () => {
      redis = new Redis(SHARED_REDIS_URL);
      prefix = uniquePrefix('log');
      sim = await startSimulatorProcess({ users: 15, seed: 7, password });
      proxy = await recordingProxy(sim.port);
    });
    after(async () => {
      await client?.stop();
      await icwatch?.stop('SIGKILL');
      await sim.stop();
      killAll();
      proxy.server.closeAllConnections();
      proxy.server.close();
      await dropPrefix(redis, prefix);
      await redis.quit();
    });

    it('never writes the password, a token, a session cookie or a CSRF token to stdout or stderr', async () => {
      icwatch = await startIcwatch({
        ICWATCH_LOG_LEVEL: 'debug',
        ICWATCH_ICWS_URL: `http://127.0.0.1:${proxy.port}/icws`,
        ICWATCH_ICWS_PASSWORD: password,
        ICWATCH_ICWS_BACKOFF_INITIAL_MS: '100',
        ICWATCH_ICWS_BACKOFF_MAX_MS: '500',
        ICWATCH_WEBSOCKET_TOKENS: token,
        ICWATCH_REDIS_URL: SHARED_REDIS_URL,
        ICWATCH_REDIS_KEY_PREFIX: prefix,
      });
      await waitFor('ready', async () => (await icwatch!.get('/readyz')).status === 200, 20000, 100);
      client = new IcwatchClient({ url: `ws://127.0.0.1:${icwatch.port}/v1/users?access_token=${token}`, token, reconnect: false }).start();
      await new Promise((resolve) => client!.once('synced', resolve));

      const users = await sim.control<SimUser[]>('GET', 'users');
      const change = async (i: number, text: string) => {
        const id = users[i]!.configurationId.id;
        await sim.control('POST', `users/${encodeURIComponent(id)}`, { statusText: text });
        await waitFor(`"${text}" in Redis`, async () => (await redis.hget(mirrorKeys(prefix).user(id), 'statusText')) === JSON.stringify(text));
      };
      await change(0, 'before expiry');
      await change(1, `a status mentioning nothing secret`);
      const sessionsBefore = proxy.secrets.size;
      await sim.control('POST', 'expire-sessions');
      await change(2, 'after expiry'); // only a new session (new cookie, new CSRF token) can carry this
      expect(proxy.secrets.size, 'a second session was created').to.be.greaterThan(sessionsBefore);
      expect(await icwatch.stop('SIGTERM')).to.equal(0);

      const output = icwatch.stdout() + icwatch.stderr();
      expect(output).to.match(/"level":"debug"/);
      for (const secret of [password, token, ...proxy.secrets]) {
        expect(output.includes(secret), `a secret (${secret.slice(0, 4)}…) appears in the output`).to.equal(false);
      }
      for (const line of icwatch.stdout().trim().split('\n')) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        expect(parsed, line).to.include.keys('level', 'message', 'component');
      }
    });
  });
});
