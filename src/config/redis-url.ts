/**
 * redis.url read once, for the schema (an error names the part that is wrong and never echoes the URL: a password
 * with `/`, `#`, `?` or a space is where the URL's structure breaks, so no URL redaction could find it) and for the
 * Redis clients (src/redis/client.ts). The form is redis[s]://[[user]:password@]host[:port][/db], the user and password
 * percent-encoded (https://www.iana.org/assignments/uri-schemes/prov/redis); `redis.password` takes a password as is.
 */
export interface RedisUrl {
  tls: boolean;
  host: string;
  port: number;
  /** Decoded; '' when absent. */
  username: string;
  /** Decoded; '' when absent. */
  password: string;
  db: number;
}

const ENCODE_HINT = 'a password holding / # ? @ % or a space must be percent-encoded (encodeURIComponent), or given in redis.password';
export const REDIS_URL_FORM = 'redis://[user:password@]host[:port][/db] or rediss://… for TLS';

/** The parts of a redis.url, or a problem in words (never containing the URL or its password). */
export function parseRedisUrl(url: string): RedisUrl | { problem: string } {
  if (/\s/.test(url)) return { problem: `expected ${REDIS_URL_FORM} without spaces; ${ENCODE_HINT}` };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { problem: `expected ${REDIS_URL_FORM}, got text that is not a URL; ${ENCODE_HINT}` };
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return { problem: `expected ${REDIS_URL_FORM} (scheme redis: or rediss:)` };
  if (!u.hostname) return { problem: `expected ${REDIS_URL_FORM}, got no host` };
  if (u.search || u.hash) return { problem: `expected ${REDIS_URL_FORM}, got a ? or # part; ${ENCODE_HINT}` };
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText && !/^\d{1,5}$/.test(dbText)) return { problem: `expected ${REDIS_URL_FORM}, got a path that is not a database number; ${ENCODE_HINT}` };
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
  } catch {
    return { problem: `expected ${REDIS_URL_FORM}, got a user or password whose %-escapes are not UTF-8; ${ENCODE_HINT}` };
  }
  return { tls: u.protocol === 'rediss:', host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379), username, password, db: Number(dbText || 0) };
}

/** The URL as it may be printed: scheme, user, host, port and database; the password, when there is one, masked. */
export function printableRedisUrl(url: RedisUrl, passwordGiven = url.password !== ''): string {
  const auth = url.username || passwordGiven ? `${encodeURIComponent(url.username)}${passwordGiven ? ':[redacted]' : ''}@` : '';
  const host = url.host.includes(':') ? `[${url.host}]` : url.host;
  return `${url.tls ? 'rediss' : 'redis'}://${auth}${host}:${url.port}${url.db ? `/${url.db}` : ''}`;
}
