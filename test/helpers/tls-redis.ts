/**
 * Real Redis over TLS for tests: a CA and certificates made with openssl in a temporary directory, a redis-server with
 * both a plain and a TLS port, and a redis-sentinel (TLS to its clients and to the master: tls-replication yes) that
 * may require a password. The server certificate names only `redis.test` (no IP): a client that connects to
 * 127.0.0.1 must send that servername to be accepted, so a test also proves redis.tls.servername is used.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './net.js';

const run = promisify(execFile);

export const TLS_SERVERNAME = 'redis.test';

export interface Certificates {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** A client certificate signed by the CA (mutual TLS). */
  readonly clientCert: string;
  readonly clientKey: string;
  /** Another CA, which signed nothing here: trusting it instead of caFile must fail. */
  readonly otherCaFile: string;
  destroy(): void;
}

/** A CA, a server certificate for `redis.test` and a client certificate, all signed by it, plus an unrelated CA. */
export async function makeCertificates(): Promise<Certificates> {
  const dir = mkdtempSync(join(tmpdir(), 'icwatch-certs-'));
  const f = (name: string) => join(dir, name);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = async (name: string, cn: string) =>
    run('openssl', ['req', '-x509', ...key, '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`), '-days', '2', '-subj', `/CN=${cn}`]);
  const signed = async (name: string, cn: string, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext);
    await run('openssl', ['req', '-new', ...key, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${name}.crt`),
      '-days',
      '2',
      '-extfile',
      f(`${name}.ext`),
    ]);
  };
  await ca('ca', 'icwatch test CA');
  await ca('other-ca', 'some other CA');
  // Redis also presents tls-cert-file as a client (Sentinel → master): hence clientAuth on the server's certificate.
  await signed('server', TLS_SERVERNAME, `subjectAltName=DNS:${TLS_SERVERNAME}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  await signed('client', 'icwatch', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caFile: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    otherCaFile: f('other-ca.crt'),
    destroy: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsRedisProcess {
  readonly plainPort: number;
  readonly tlsPort: number;
  /** redis-cli against the plain port (with the password, when there is one). */
  cli(...args: string[]): Promise<string>;
  destroy(): Promise<void>;
}

const tlsArgs = (certs: Certificates, authClients: boolean) => [
  '--tls-cert-file',
  certs.serverCert,
  '--tls-key-file',
  certs.serverKey,
  '--tls-ca-cert-file',
  certs.caFile,
  '--tls-auth-clients',
  authClients ? 'yes' : 'no',
];

function processHandle(child: ChildProcess, dir: string, plainPort: number, tlsPort: number, password?: string): TlsRedisProcess {
  const auth = password ? ['--no-auth-warning', '-a', password] : [];
  return {
    plainPort,
    tlsPort,
    cli: async (...args) => (await run('redis-cli', ['-p', String(plainPort), ...auth, ...args])).stdout.trim(),
    destroy: async () => {
      if (child.exitCode === null && child.signalCode === null)
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A redis-server with a plain port and a TLS port. `authClients`: clients must present a certificate signed by the
 * CA. `password`: requirepass. `args`: more options (e.g. --aclfile).
 */
export async function startTlsRedis(
  certs: Certificates,
  options: { authClients?: boolean; password?: string; args?: string[] } = {},
): Promise<TlsRedisProcess> {
  const [plainPort, tlsPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'icwatch-tls-redis-'));
  const args = ['--port', String(plainPort), '--tls-port', String(tlsPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  args.push(...tlsArgs(certs, options.authClients ?? false), '--tls-replication', 'yes');
  if (options.password) args.push('--requirepass', options.password);
  args.push(...(options.args ?? []));
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const handle = processHandle(child, dir, plainPort, tlsPort, options.password);
  try {
    await waitFor(`redis-server on ${plainPort}/${tlsPort}`, async () => (await handle.cli('ping')) === 'PONG', 20000, 100);
  } catch (err) {
    await handle.destroy();
    throw err;
  }
  return handle;
}

/**
 * A redis-sentinel with a plain and a TLS port watching `masterName` at 127.0.0.1:`masterPort` (reached over TLS:
 * tls-replication yes), with the master's password (`sentinel auth-pass`) and its own (`requirepass`).
 */
export async function startTlsSentinel(
  certs: Certificates,
  options: { masterPort: number; masterPassword?: string; password?: string; masterName?: string },
): Promise<TlsRedisProcess> {
  const masterName = options.masterName ?? 'mymaster';
  const [plainPort, tlsPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'icwatch-tls-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  const [, cert, , key, , ca, , authClients] = tlsArgs(certs, false);
  const lines = [
    `port ${plainPort}`,
    `tls-port ${tlsPort}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    `tls-cert-file ${cert}`,
    `tls-key-file ${key}`,
    `tls-ca-cert-file ${ca}`,
    `tls-auth-clients ${authClients}`,
    'tls-replication yes',
    ...(options.password ? [`requirepass "${options.password}"`] : []),
    `sentinel monitor ${masterName} 127.0.0.1 ${options.masterPort} 1`,
    ...(options.masterPassword ? [`sentinel auth-pass ${masterName} "${options.masterPassword}"`] : []),
  ];
  // Sentinel rewrites its configuration file, so it gets one of its own.
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const child = spawn('redis-sentinel', [conf], { stdio: 'ignore' });
  const handle = processHandle(child, dir, plainPort, tlsPort, options.password);
  try {
    await waitFor(
      'the Sentinel to reach the master',
      async () => {
        const flags = await handle.cli('sentinel', 'master', masterName);
        return /\bflags\s+master\s/.test(`${flags.replace(/\n/g, ' ')} `);
      },
      30000,
      200,
    );
  } catch (err) {
    await handle.destroy();
    throw err;
  }
  return handle;
}
