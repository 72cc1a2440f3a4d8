/**
 * `icwatch doctor` as an operator runs it: the real CLI as a child process, against the real simulator behind a real
 * TLS terminator (certificates made by openssl: the server's CA, and another CA), and the real Redis with ACL users of
 * the test's own. A healthy setup is all ✓ and exit 0; each broken piece is a ✗ that names the problem and the fix,
 * exit 1; and no output ever holds the ICWS password, the Redis password or a token.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { REDIS_COMMANDS_USED } from '../../src/mirror/redis-commands.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { freePort } from '../helpers/net.js';
import { makeCertificates } from './certificates.js';
import { runCli } from '../helpers/processes.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

const ICWS_PASSWORD = `icws-Pw-${randomBytes(6).toString('hex')}`;
const REDIS_PASSWORD = `redis-Pw-${randomBytes(6).toString('hex')}`;
const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const CHECK_NAMES = [
  'configuration',
  'ICWS DNS',
  'ICWS TCP',
  'ICWS TLS',
  'ICWS login',
  'ICWS version',
  'subscription',
  'user statuses',
  'ICWS logout',
  'Redis',
  'Redis ACL',
  'mirror',
  'HTTP port',
];

/** A TLS terminator in front of the simulator: https outside, the simulator's plain http behind. */
async function tlsInFront(sim: Simulator, key: string, cert: string): Promise<{ server: Server; port: number }> {
  const server = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (socket) => {
    const upstream = tcpConnect({ host: '127.0.0.1', port: sim.port });
    socket.pipe(upstream).pipe(socket);
    const close = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  // Both loopback addresses: localhost may resolve to either.
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen({ port, host: '::', ipv6Only: false }, resolve));
  return { server, port };
}

interface Run {
  code: number | string;
  output: string;
  /** Each check's mark and what was found, without its name (and the "→ fix" line after it). */
  lines: Map<string, string>;
}

describe('icwatch doctor', function () {
  this.timeout(120000);
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;
  let sim: Simulator;
  let front: { server: Server; port: number };
  let redis: Redis;
  let prefix: string;
  const aclUsers: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'icwatch-doctor-'));
    certs = makeCertificates(dir);
    sim = await startSimulator({ users: 20, password: ICWS_PASSWORD });
    front = await tlsInFront(sim, certs.key, certs.cert);
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('doctor');
  });
  after(async () => {
    for (const user of aclUsers) await redis.call('ACL', 'DELUSER', user);
    await dropPrefix(redis, prefix);
    await redis.quit();
    await new Promise((resolve) => front.server.close(resolve));
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const healthyEnv = async (): Promise<Record<string, string>> => ({
    ICWATCH_ICWS_URL: `https://localhost:${front.port}/icws`,
    ICWATCH_ICWS_PASSWORD: ICWS_PASSWORD,
    ICWATCH_ICWS_TLS_CA_FILE: certs.goodCa,
    ICWATCH_ICWS_REQUEST_TIMEOUT_MS: '10000',
    ICWATCH_REDIS_URL: SHARED_REDIS_URL,
    ICWATCH_REDIS_KEY_PREFIX: prefix,
    ICWATCH_HTTP_PORT: String(await freePort()),
    ICWATCH_WEBSOCKET_TOKENS: TOKEN,
  });

  async function doctor(overrides: Record<string, string> = {}): Promise<Run> {
    const { code, stdout, stderr } = await runCli(['doctor'], { ...(await healthyEnv()), ...overrides }, 90000);
    const output = stdout + stderr;
    const lines = new Map<string, string>();
    const raw = stdout.split('\n');
    const width = Math.max(...CHECK_NAMES.map((n) => n.length));
    raw.forEach((text, i) => {
      const name = text.slice(2, 2 + width).trim();
      if (!CHECK_NAMES.includes(name)) return;
      const next = raw[i + 1] ?? '';
      // "✓ <what was found>", and "→ <what to do>" on the next line when there is one.
      lines.set(name, `${text[0]} ${text.slice(2 + width + 2)}${/^\s+→/.test(next) ? `\n${next.trim()}` : ''}`);
    });
    return { code, output, lines };
  }

  /** No secret anywhere: the ICWS password (right or wrong), the Redis password, the token, the session's cookie. */
  function expectNoSecret(run: Run, ...more: string[]): void {
    for (const secret of [ICWS_PASSWORD, REDIS_PASSWORD, TOKEN, ...more]) expect(run.output, 'a secret in the output').to.not.include(secret);
    expect(run.output).to.not.match(/icws_\w+=|csrf/i);
  }

  const line = (run: Run, name: string) => {
    const l = run.lines.get(name);
    expect(l, `a line for ${name} in:\n${run.output}`).to.be.a('string');
    return l!;
  };

  it('passes every check on a healthy setup (https with its CA, login, subscription, statuses, Redis, ACL, port) and exits 0', async () => {
    const run = await doctor();
    expect(run.code, run.output).to.equal(0);
    for (const name of CHECK_NAMES) expect(line(run, name), run.output).to.match(/^✓ /);
    expect(line(run, 'ICWS TLS')).to.include('CN=localhost issued by CN=doctor test CA good').and.include('trusted by icws.tls.caFile');
    expect(line(run, 'subscription')).to.include('accepted and removed again');
    expect(line(run, 'Redis ACL')).to.include(`${REDIS_COMMANDS_USED.length - 3} commands checked by ACL DRYRUN`);
    // The scratch subscription is gone with the session.
    expect(sim.control.sessions()).to.deep.equal([]);
    expectNoSecret(run);
  });

  it('says the login was refused and to check icws.user and the password, never printing it (exit 1)', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const run = await doctor({ ICWATCH_ICWS_PASSWORD: wrong });
    expect(run.code).to.equal(1);
    expect(line(run, 'ICWS login'))
      .to.match(/^✗ /)
      .and.include('refused the login of user "icwatch"')
      .and.include('error.request.connection.authenticationFailure')
      .and.include('check icws.user and the password');
    expect(line(run, 'subscription')).to.match(/^– .*not logged in/);
    expectNoSecret(run, wrong);
  });

  it('says an unknown host does not resolve, and skips what depends on it (exit 1)', async () => {
    const run = await doctor({ ICWATCH_ICWS_URL: 'https://nonexistent.invalid:8019/icws' });
    expect(run.code).to.equal(1);
    expect(line(run, 'ICWS DNS')).to.match(/^✗ /).and.include('nonexistent.invalid does not resolve').and.include('check the host name in icws.url');
    for (const name of ['ICWS TCP', 'ICWS TLS', 'ICWS login']) expect(line(run, name)).to.match(/^– skipped: nonexistent.invalid has no address/);
    expect(line(run, 'Redis')).to.match(/^✓ /);
    expectNoSecret(run);
  });

  it('says a certificate signed by another CA is not trusted, naming its issuer and how to fix it (exit 1)', async () => {
    const run = await doctor({ ICWATCH_ICWS_TLS_CA_FILE: certs.otherCa });
    expect(run.code).to.equal(1);
    expect(line(run, 'ICWS TLS'))
      .to.match(/^✗ /)
      .and.include(`CN=localhost issued by CN=doctor test CA good is not trusted by icws.tls.caFile ${certs.otherCa}`)
      .and.include('set icws.tls.caFile to the PEM of the CA that signed it (issuer: CN=doctor test CA good)');
    expect(line(run, 'ICWS login')).to.match(/^– skipped: icwatch would refuse this TLS connection/);
    expectNoSecret(run);
  });

  it('names a command a least-privilege Redis user lacks and the ACL line that adds it (exit 1)', async () => {
    const user = `icwatch-doctor-${randomBytes(4).toString('hex')}`;
    aclUsers.push(user);
    // Every command icwatch uses but XTRIM, on the mirror's keys and channels only: the user may not run ACL DRYRUN.
    const allowed = REDIS_COMMANDS_USED.filter((c) => c.command !== 'xtrim' && !c.modes).map((c) => `+${c.command}`);
    await redis.call('ACL', 'SETUSER', user, 'on', `>${REDIS_PASSWORD}`, `~{${prefix}}:*`, `&{${prefix}}:*`, ...allowed);
    const run = await doctor({ ICWATCH_REDIS_URL: `redis://${user}:${REDIS_PASSWORD}@127.0.0.1:6379` });
    expect(run.code).to.equal(1);
    expect(line(run, 'Redis ACL'))
      .to.match(/^✗ /)
      .and.include(`user ${user} may not run XTRIM`)
      .and.include('by trying each command on scratch keys')
      .and.include(`ACL SETUSER ${user} +xtrim`);
    expect(line(run, 'mirror')).to.match(/^✓ /);
    // The scratch keys are gone.
    expect(await redis.keys(`{${prefix}}:doctor:*`)).to.deep.equal([]);
    expectNoSecret(run);

    // A user who may run ACL DRYRUN is checked without running anything; a key outside its pattern is named too.
    const admin = `icwatch-doctor-${randomBytes(4).toString('hex')}`;
    aclUsers.push(admin);
    await redis.call('ACL', 'SETUSER', admin, 'on', `>${REDIS_PASSWORD}`, '~other:*', `&{${prefix}}:*`, '+@all', '-xtrim');
    const dry = await doctor({ ICWATCH_REDIS_URL: `redis://${admin}:${REDIS_PASSWORD}@127.0.0.1:6379` });
    expect(dry.code).to.equal(1);
    expect(line(dry, 'Redis ACL'))
      .to.match(/^✗ /)
      .and.include('XTRIM')
      .and.include('by ACL DRYRUN')
      .and.include(`ACL SETUSER ${admin} `)
      .and.include('+xtrim')
      .and.include(`~{${prefix}}:*`);
    expectNoSecret(dry);
  });

  it('shows the server refusing the rights filter, with its message and what to change (exit 1)', async () => {
    const run = await doctor({ ICWATCH_SUBSCRIPTION_RIGHTS_FILTER: 'canRuleTheWorld' });
    expect(run.code).to.equal(1);
    expect(line(run, 'subscription'))
      .to.match(/^✗ /)
      .and.include('the server refused the subscription (400')
      .and.include('unknown right "canRuleTheWorld"')
      .and.include('correct subscription.rightsFilter');
    expect(line(run, 'ICWS logout')).to.match(/^✓ /);
    expectNoSecret(run);
  });

  it('reports a configuration that does not load as the first ✗ and skips the rest (exit 1, not 78)', async () => {
    const run = await doctor({ ICWATCH_HTTP_PORT: 'eighty' });
    expect(run.code).to.equal(1);
    expect(line(run, 'configuration')).to.match(/^✗ http\.port/);
    expect(line(run, 'HTTP port')).to.match(/^– skipped: the configuration did not load/);
    expectNoSecret(run);
  });
});
