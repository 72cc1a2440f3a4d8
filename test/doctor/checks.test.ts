/**
 * The doctor's checks that an end-to-end run cannot reach cheaply: a certificate near or past its expiry, one for
 * another name, a login answer saying the password expires soon (a small ICWS stand-in that says so), a mirror with
 * its leader, a Redis that does not answer, and a port already taken.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { expect } from 'chai';
import { loadConfig } from '../../src/config/load.js';
import { IcwsChecks } from '../../src/doctor/icws.js';
import { checkHttpPort } from '../../src/doctor/http-port.js';
import { checkTls, endpointOf } from '../../src/doctor/network.js';
import { RedisChecks } from '../../src/doctor/redis.js';
import { Redis } from 'ioredis';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { makeCertificates, type Certificates } from './certificates.js';

const DAY_MS = 86_400_000;

describe('icwatch doctor: single checks', function () {
  this.timeout(60000);
  let dir: string;
  let certs: Certificates;
  const servers: (TlsServer | HttpServer)[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'icwatch-doctor-checks-'));
    certs = makeCertificates(dir);
  });
  after(async () => {
    for (const s of servers) await new Promise((resolve) => s.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  async function tlsServer(cert: string): Promise<number> {
    const server = createTlsServer({ key: readFileSync(certs.key), cert: readFileSync(cert) }, (socket) => socket.end());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }
  const tls = { caFile: '', rejectUnauthorized: true };

  it('warns when the certificate expires within 30 days, and fails once it has expired', async () => {
    const port = await tlsServer(certs.shortCert);
    const endpoint = endpointOf(`https://localhost:${port}/icws`);
    const soon = await checkTls('127.0.0.1', endpoint, { ...tls, caFile: certs.goodCa }, 5000);
    expect(soon.outcome).to.equal('warn');
    expect(soon.found).to.match(/CN=localhost issued by CN=doctor test CA good, trusted by icws\.tls\.caFile .*\(9 days\)/);
    expect(soon.fix).to.include('expires in 9 days');
    const later = await checkTls('127.0.0.1', endpoint, { ...tls, caFile: certs.goodCa }, 5000, Date.now() + 11 * DAY_MS);
    expect(later.outcome).to.equal('fail');
    expect(later.found).to.include('expired on');
    expect(later.fix).to.include('renew');
  });

  it("fails a certificate that does not name the URL's host, naming the ones it does", async () => {
    const port = await tlsServer(certs.cert);
    const result = await checkTls('127.0.0.1', endpointOf(`https://ic1.example.com:${port}/icws`), { ...tls, caFile: certs.goodCa }, 5000);
    expect(result.outcome).to.equal('fail');
    expect(result.found).to.include('is not for ic1.example.com').and.include('DNS:localhost');
  });

  it('warns at ≤ 14 days of password left, fails at ≤ 7, and says the days left otherwise', async () => {
    let days = 0;
    const server = createHttpServer((req, res) => {
      req.resume();
      if (req.method === 'POST' && req.url?.startsWith('/icws/connection')) {
        res.writeHead(201, {
          'content-type': 'application/json',
          'ININ-ICWS-CSRF-Token': 'csrf-abc',
          'ININ-ICWS-Session-ID': '123',
          'set-cookie': 'icws_123=cookie-value; Path=/icws/123; HttpOnly',
        });
        res.end(JSON.stringify({ sessionId: '123', csrfToken: 'csrf-abc', userID: 'svc', icServer: 'ic1', daysUntilPasswordExpiration: days }));
      } else {
        res.writeHead(204).end();
      }
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/icws`;
    const config = loadConfig({ env: {}, overrides: { icws: { url, user: 'svc', password: 'a-password' } } });
    const outcome = async (d: number) => {
      days = d;
      const checks = new IcwsChecks(config);
      const result = await checks.login();
      await checks.close();
      return result;
    };
    const warned = await outcome(12);
    expect(warned.outcome).to.equal('warn');
    expect(warned.found).to.include('the password expires in 12 days');
    expect(warned.fix).to.include('change the password of "svc"');
    expect((await outcome(7)).outcome).to.equal('fail');
    const fine = await outcome(60);
    expect(fine.outcome).to.equal('pass');
    expect(fine.found).to.include('expires in 60 days');
  });

  it("describes the mirror's epoch, seq, users and leader from {P}:meta and {P}:leader", async () => {
    const prefix = uniquePrefix('doctor-mirror');
    const redis = new Redis(SHARED_REDIS_URL);
    await redis.hset(`{${prefix}}:meta`, { epoch: 'e1f2', seq: '42', users: '7', syncedAt: String(Date.UTC(2026, 0, 2)) });
    await redis.set(`{${prefix}}:leader`, 'replica-a', 'PX', 30000);
    const config = loadConfig({ env: {}, overrides: { redis: { url: SHARED_REDIS_URL, keyPrefix: prefix } } });
    const checks = new RedisChecks(config);
    try {
      expect((await checks.reachable(5000)).outcome).to.equal('pass');
      const mirror = await checks.mirror();
      expect(mirror.outcome).to.equal('pass');
      expect(mirror.found).to.match(/^epoch e1f2, seq 42, 7 users, synced 2026-01-02T00:00:00\.000Z; leader replica-a \(lease \d+\.\d s left\)$/);
    } finally {
      await checks.close();
      await dropPrefix(redis, prefix);
      await redis.quit();
    }
  });

  it('says why Redis does not answer', async () => {
    const config = loadConfig({ env: {}, overrides: { redis: { url: 'redis://127.0.0.1:1' } } });
    const checks = new RedisChecks(config);
    try {
      const result = await checks.reachable(3000);
      expect(result.outcome).to.equal('fail');
      expect(result.found).to.include('no answer from redis://127.0.0.1:1').and.include('ECONNREFUSED');
      expect(result.fix).to.include('check redis.url');
    } finally {
      await checks.close();
    }
  });

  it('fails an HTTP port another process holds, naming how to find it', async () => {
    const holder = createHttpServer();
    servers.push(holder);
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    const taken = await checkHttpPort({ host: '127.0.0.1', port });
    expect(taken.outcome).to.equal('fail');
    expect(taken.found).to.include(`127.0.0.1:${port} is in use`);
    expect(taken.fix).to.include(`ss -ltnp 'sport = :${port}'`);
  });
});
