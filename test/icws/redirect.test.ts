/**
 * The ICWS password goes only to ICWS (README "Security"): a fake ICWS (a real HTTP server) answers the login with a
 * redirect (302, and 307, whose follower re-sends the body) to a capturing server on another port. Neither
 * `icwatch run` nor `icwatch mailboxes` follows it: the capturing server sees no connection at all, the error names
 * the status and the Location's host, and never the password or the rest of the Location.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { icwsWarnings, isLoopback } from '../../src/daemon/start-warnings.js';
import { loadConfig } from '../../src/config/load.js';
import { waitFor } from '../helpers/net.js';
import { killAll, runCli, startCli, startIcwatch } from '../helpers/processes.js';
import { uniquePrefix } from '../helpers/redis.js';

const PASSWORD = 'Icws-Redirect-Pw-5521';
const LOCATION_TOKEN = 'loc-token-8d1e';

/** A TCP server that counts what reaches it: connections and bytes. */
async function capturingServer() {
  const seen = { connections: 0, bytes: 0 };
  const server = createTcpServer((socket) => {
    seen.connections++;
    socket.on('data', (d) => (seen.bytes += d.length));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { seen, port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A fake ICWS whose every answer is `status` with a Location on the capturing server. */
async function redirectingIcws(status: number, target: number) {
  const requests: string[] = [];
  const server: Server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(status, { location: `http://127.0.0.1:${target}/icws/connection?access_token=${LOCATION_TOKEN}` }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { requests, url: `http://127.0.0.1:${port}/icws`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('ICWS redirects are never followed', function () {
  this.timeout(90000);
  const dir = mkdtempSync(join(tmpdir(), 'icwatch-redirect-'));
  after(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const status of [302, 307]) {
    describe(`a login answered ${status}`, () => {
      let capture: Awaited<ReturnType<typeof capturingServer>>;
      let icws: Awaited<ReturnType<typeof redirectingIcws>>;
      beforeEach(async () => {
        capture = await capturingServer();
        icws = await redirectingIcws(status, capture.port);
      });
      afterEach(async () => {
        await icws.close();
        await capture.close();
      });

      it('icwatch run: logs an error naming the status and the Location host, backs off, and the other server receives nothing', async () => {
        const p = await startIcwatch({
          ICWATCH_ICWS_URL: icws.url,
          ICWATCH_ICWS_PASSWORD: PASSWORD,
          ICWATCH_ICWS_BACKOFF_INITIAL_MS: '100',
          ICWATCH_ICWS_BACKOFF_MAX_MS: '200',
          ICWATCH_REDIS_KEY_PREFIX: uniquePrefix('redirect'),
        });
        try {
          await p.waitForOutput(new RegExp(`answered ${status}: a redirect to 127\\.0\\.0\\.1:${capture.port}, not followed`), 60000);
          // It keeps trying with its backoff (a maintenance redirect passes), and never follows.
          await waitFor('a second login attempt', () => icws.requests.filter((r) => r.startsWith('POST /icws/connection')).length >= 2, 30000);
          const readyz = await p.get('/readyz');
          expect(readyz.status).to.equal(503);
          const out = p.stdout() + p.stderr() + readyz.text;
          expect(out).to.match(/"level":"error"[^\n]*not followed|not followed[^\n]*"level":"error"/);
          expect(out).not.to.include(PASSWORD);
          expect(out).not.to.include(LOCATION_TOKEN);
        } finally {
          await p.stop('SIGKILL');
        }
        expect(capture.seen).to.deep.equal({ connections: 0, bytes: 0 });
      });

      it('icwatch mailboxes: exits 78 naming the status and the Location host, and the other server receives nothing', async () => {
        const file = join(dir, `mailboxes-${status}.yaml`);
        writeFileSync(file, stringify({ remove: ['support-shared@example.com'] }));
        const r = await runCli(['mailboxes', '--workgroup', 'Support', '-f', file], { ICWATCH_ICWS_URL: icws.url, ICWATCH_ICWS_PASSWORD: PASSWORD }, 60000);
        expect(r.code, r.stderr).to.equal(78);
        expect(r.stderr).to.include(`answered ${status}: a redirect to 127.0.0.1:${capture.port}, not followed`);
        expect(r.stderr).to.include('icws.url');
        expect(r.stdout + r.stderr).not.to.include(PASSWORD);
        expect(r.stdout + r.stderr).not.to.include(LOCATION_TOKEN);
        expect(icws.requests).to.have.length(1);
        expect(capture.seen).to.deep.equal({ connections: 0, bytes: 0 });
      });
    });
  }
});

describe('start-up warnings for ICWS settings that expose the password', function () {
  this.timeout(90000);
  after(() => killAll());

  it('icwatch run warns about plain http:// to another host and about icws.tls.rejectUnauthorized: false', async () => {
    const p = startCli(['run'], {
      ICWATCH_HTTP_PORT: '0',
      ICWATCH_ICWS_URL: 'http://icws.invalid:8018/icws',
      ICWATCH_ICWS_PASSWORD: PASSWORD,
      ICWATCH_ICWS_TLS_REJECT_UNAUTHORIZED: 'false',
      ICWATCH_REDIS_KEY_PREFIX: uniquePrefix('warnings'),
    });
    try {
      await p.waitForOutput(/icws\.tls\.rejectUnauthorized is false/, 60000);
      await p.waitForOutput(/icws\.url is plain http:\/\/ to icws\.invalid:8018/, 5000);
      const lines = p
        .stdout()
        .split('\n')
        .filter((l) => /rejectUnauthorized is false|is plain http/.test(l));
      expect(lines).to.have.length(2);
      for (const line of lines) expect(JSON.parse(line)).to.include({ level: 'warn' });
    } finally {
      await p.stop('SIGKILL');
    }
  });

  it('says nothing for loopback http, https, or role fanout', () => {
    const quiet = (icws: Record<string, unknown>, role: 'all' | 'fanout' = 'all') => icwsWarnings(loadConfig({ env: {}, overrides: { role, icws } }));
    expect(quiet({ url: 'http://127.0.0.1:8018/icws' })).to.deep.equal([]);
    expect(quiet({ url: 'http://localhost:8018/icws' })).to.deep.equal([]);
    expect(quiet({ url: 'http://[::1]:8018/icws' })).to.deep.equal([]);
    expect(quiet({ url: 'https://ic1.example.com:8019/icws' })).to.deep.equal([]);
    expect(quiet({ url: 'http://ic1.example.com:8018/icws', tls: { caFile: '', rejectUnauthorized: false } }, 'fanout')).to.deep.equal([]);
    expect(quiet({ url: 'http://10.0.0.5:8018/icws' })).to.have.length(1);
    expect(isLoopback('127.1.2.3')).to.equal(true);
    expect(isLoopback('128.0.0.1')).to.equal(false);
  });
});
