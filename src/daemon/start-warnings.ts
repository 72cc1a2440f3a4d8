/**
 * Settings that work but put a secret at risk (README "Security"): said once at
 * start, as warnings, so an operator who chose them on purpose can keep them and one who did not sees them.
 */
import { isIP } from 'node:net';
import type { Config } from '../config/defaults.js';

/** The warnings the ICWS settings call for (none for `role: fanout`, which never logs in). */
export function icwsWarnings(config: Config): string[] {
  if (config.role !== 'all') return [];
  const warnings: string[] = [];
  const url = new URL(config.icws.url);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    warnings.push(
      `icws.url is plain http:// to ${url.host}, which is not this machine: the ICWS password and the session's cookie cross the network in clear (use https://, port 8019)`,
    );
  }
  if (!config.icws.tls.rejectUnauthorized) {
    warnings.push(
      'icws.tls.rejectUnauthorized is false: any certificate is accepted, so anyone in the path can read the ICWS password (testing only; give icws.tls.caFile instead)',
    );
  }
  return warnings;
}

/** localhost, 127.0.0.0/8 or ::1 (a URL's hostname writes IPv6 in brackets). */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(host);
  return false;
}
