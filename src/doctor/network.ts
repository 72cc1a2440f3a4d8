/**
 * The network checks of `icwatch doctor` before any HTTP: the ICWS host's name resolves, a TCP connection opens, and
 * for https the certificate is trusted (against icws.tls.caFile, else the system CAs), names the host and is not
 * about to expire. Each is bounded by icws.requestTimeoutMs.
 */
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import type { Config } from '../config/defaults.js';
import { fail, pass, warn, type CheckResult } from './report.js';

/** Warn when the certificate expires within this many days. */
export const CERTIFICATE_WARN_DAYS = 30;

export interface Endpoint {
  /** As in icws.url (brackets of an IPv6 address removed). */
  host: string;
  port: number;
  https: boolean;
}

export function endpointOf(url: string): Endpoint {
  const u = new URL(url);
  const https = u.protocol === 'https:';
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port || (https ? 443 : 80)), https };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what}: no answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException)?.code ?? 'error';

/** The check and, when it passed, the addresses to connect to. */
export async function checkDns(host: string, timeoutMs: number): Promise<{ result: CheckResult; addresses: string[] }> {
  if (isIP(host)) return { result: pass(`${host} is an address (no lookup)`), addresses: [host] };
  try {
    const list = (await withTimeout(lookup(host, { all: true }), timeoutMs, 'DNS')).map((a) => a.address);
    return { result: pass(`${host} → ${list.slice(0, 4).join(', ')}${list.length > 4 ? ', …' : ''}`), addresses: list };
  } catch (err) {
    const code = codeOf(err);
    if (code === 'ENOTFOUND') {
      return {
        result: fail(
          `${host} does not resolve (ENOTFOUND)`,
          `check the host name in icws.url; on this machine: getent hosts ${host} (and /etc/resolv.conf for the DNS servers)`,
        ),
        addresses: [],
      };
    }
    return {
      result: fail(`no DNS answer for ${host} (${code})`, 'check the DNS servers of this machine (/etc/resolv.conf), or put an address in icws.url'),
      addresses: [],
    };
  }
}

/** Connects to each address in turn, as the daemon's HTTP client does (a name may resolve to ::1 and 127.0.0.1). */
export async function checkTcp(addresses: string[], endpoint: Endpoint, timeoutMs: number): Promise<{ result: CheckResult; address?: string }> {
  let failure: CheckResult | undefined;
  for (const address of addresses) {
    const result = await tcpTo(address, endpoint, timeoutMs);
    if (result.outcome === 'pass') return { result, address };
    failure ??= result;
  }
  return { result: failure ?? fail(`${endpoint.host} has no address`, 'check the host name in icws.url') };
}

async function tcpTo(address: string, endpoint: Endpoint, timeoutMs: number): Promise<CheckResult> {
  const where = `${endpoint.host}:${endpoint.port}${address !== endpoint.host ? ` (${address})` : ''}`;
  const started = performance.now();
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        const socket = tcpConnect({ host: address, port: endpoint.port });
        socket.once('connect', () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
        socket.setTimeout(timeoutMs + 100, () => socket.destroy());
      }),
      timeoutMs,
      'TCP',
    );
    return pass(`connected to ${where} in ${Math.round(performance.now() - started)} ms`);
  } catch (err) {
    const code = codeOf(err);
    const port = endpoint.https ? '8019 for https' : '8018 for http';
    if (code === 'ECONNREFUSED') {
      return fail(`nothing listens on ${where} (ECONNREFUSED)`, `check the port in icws.url (ICWS: ${port}) and that the IC server's ICWS service runs`);
    }
    if (code === 'ETIMEDOUT') {
      return fail(
        `no answer from ${where} within ${timeoutMs} ms (icws.requestTimeoutMs)`,
        `a firewall may drop the packets: open TCP ${endpoint.port} from this machine to the IC server`,
      );
    }
    return fail(`cannot connect to ${where} (${code})`, `check the network path from this machine to the IC server (route, firewall, port ${endpoint.port})`);
  }
}

/** "CN=ic1.example.com" from a certificate's subject or issuer. */
function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '(none)';
  const parts = (['CN', 'O', 'OU'] as const).flatMap((k) => {
    const v = (name as unknown as Record<string, string | string[] | undefined>)[k];
    return v === undefined ? [] : [`${k}=${Array.isArray(v) ? v.join('+') : v}`];
  });
  return parts.join(', ') || '(none)';
}

const DAY_MS = 86_400_000;

/** Verification errors of node:tls that mean "signed by a CA not trusted here". */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

interface Handshake {
  cert: PeerCertificate;
  authorized: boolean;
  authorizationError?: string;
}

function handshake(address: string, endpoint: Endpoint, ca: Buffer | undefined, timeoutMs: number): Promise<Handshake> {
  return withTimeout(
    new Promise<Handshake>((resolve, reject) => {
      // Verification is done here, not by refusing the handshake, so that an untrusted certificate can still be described.
      const socket = tlsConnect({
        host: address,
        port: endpoint.port,
        ...(isIP(endpoint.host) ? {} : { servername: endpoint.host }),
        ...(ca ? { ca } : {}),
        rejectUnauthorized: false,
      });
      socket.once('secureConnect', () => {
        const cert = socket.getPeerCertificate();
        const answer = { cert, authorized: socket.authorized, authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined };
        socket.destroy();
        resolve(answer);
      });
      socket.once('error', reject);
      socket.setTimeout(timeoutMs + 100, () => socket.destroy());
    }),
    timeoutMs,
    'TLS',
  );
}

export async function checkTls(address: string, endpoint: Endpoint, tls: Config['icws']['tls'], timeoutMs: number, now = Date.now()): Promise<CheckResult> {
  let ca: Buffer | undefined;
  if (tls.caFile) {
    try {
      ca = readFileSync(tls.caFile);
    } catch (err) {
      return fail(
        `cannot read icws.tls.caFile ${tls.caFile} (${codeOf(err)})`,
        "point icws.tls.caFile at a readable PEM file of the CA that signed the server's certificate",
      );
    }
  }
  const trustedBy = tls.caFile ? `icws.tls.caFile ${tls.caFile}` : "this machine's CAs";
  let h: Handshake;
  try {
    h = await handshake(address, endpoint, ca, timeoutMs);
  } catch (err) {
    return fail(
      `no TLS handshake with ${endpoint.host}:${endpoint.port} (${codeOf(err)}: ${(err as Error).message})`,
      'check that the port speaks https (ICWS: 8019; plain http is 8018 and needs an http:// URL)',
    );
  }
  const subject = distinguishedName(h.cert.subject);
  const issuer = distinguishedName(h.cert.issuer);
  const expires = Date.parse(h.cert.valid_to);
  const days = Math.floor((expires - now) / DAY_MS);
  const validity = Number.isFinite(expires) ? `valid until ${new Date(expires).toISOString().slice(0, 10)} (${days} days)` : 'validity unknown';
  const described = `${subject} issued by ${issuer}`;
  const off = !tls.rejectUnauthorized;
  const expired = () =>
    fail(`${described} expired on ${new Date(expires).toISOString().slice(0, 10)}`, "renew the IC server's certificate (the server's administrators)");
  const fetchCa = `see the server's chain with: openssl s_client -connect ${endpoint.host}:${endpoint.port} -showcerts`;
  const code = h.authorized ? undefined : (h.authorizationError ?? 'not trusted');

  if (code === 'CERT_HAS_EXPIRED' || days < 0) return expired();
  // Node reports a name mismatch as an authorization error when it knows the name (SNI); checked here either way.
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || (!code && checkServerIdentity(endpoint.host, h.cert))) {
    const names = h.cert.subjectaltname ? ` (it names ${h.cert.subjectaltname})` : '';
    const found = `${described} is not for ${endpoint.host}${names}`;
    if (off) return warn(`${found}; icws.tls.rejectUnauthorized is false, so icwatch connects anyway`, 'use in icws.url a name the certificate carries');
    return fail(found, 'use in icws.url a host name the certificate carries, or have the certificate reissued with this name');
  }
  if (code) {
    const found = `${described} is not trusted by ${trustedBy} (${code})`;
    if (off)
      return warn(
        `${found}; icws.tls.rejectUnauthorized is false, so icwatch connects anyway`,
        `set icws.tls.caFile to the issuing CA's PEM (${fetchCa}) and rejectUnauthorized back to true`,
      );
    const fix = UNTRUSTED.has(code)
      ? `set icws.tls.caFile to the PEM of the CA that signed it (issuer: ${issuer}); ${fetchCa}`
      : `check the server's certificate chain; ${fetchCa}`;
    return fail(found, fix);
  }
  if (days < CERTIFICATE_WARN_DAYS) {
    return warn(`${described}, trusted by ${trustedBy}, ${validity}`, `the certificate expires in ${days} days: have it renewed before then`);
  }
  if (off) {
    return warn(
      `${described}, trusted by ${trustedBy}, ${validity}; but icws.tls.rejectUnauthorized is false`,
      'set icws.tls.rejectUnauthorized back to true: the certificate is trusted',
    );
  }
  return pass(`${described}, trusted by ${trustedBy}, ${validity}`);
}
