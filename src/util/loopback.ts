/**
 * Loopback names and addresses: where an unauthenticated endpoint is acceptable (Redis's protected mode draws the
 * same line), and which Host headers a loopback-bound server answers (DNS rebinding, README "Security").
 */
import { isIPv4, isIPv6 } from 'node:net';

/** `host` (an address or a name, with or without IPv6 brackets) is the loopback interface: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (isIPv6(h)) return h === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/** The host name of a Host header value (`name:port`, `[v6]:port`), lowercased; null when it is not one. */
export function hostNameOf(header: string): string | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$/.exec(header.trim());
  return m ? m[1]!.toLowerCase() : null;
}
