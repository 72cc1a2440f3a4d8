/**
 * The door every read goes through (README "Security"): the WebSocket upgrade, the HTTP reads, /v1/status and
 * /metrics. Per connection or request, never per frame:
 * - the site: an `Origin` that is neither icwatch's own nor in http.allowedOrigins is refused (Cross-Site WebSocket
 *   Hijacking), and while http.host is loopback, a `Host` that is not a loopback name nor in http.allowedHosts is
 *   refused (DNS rebinding). Clients that are not browsers send no Origin and pass.
 * - the token: `Authorization: Bearer`, the subprotocol `icwatch.bearer.<base64url>` (browsers cannot set headers on
 *   a WebSocket; the Kubernetes API server's technique) or `?access_token=`; a token grants every property or only
 *   its `props`.
 * - the scope: a `props=` query naming a property outside the token's is refused 403; none asked = the token's.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { BEARER_PROTOCOL_PREFIX, PROTOCOL } from '../protocol/subprotocols.js';
import { hostNameOf, isLoopbackHost } from '../util/loopback.js';

/** A configured token: a string reads everything; {token, props} reads only those properties (and ids). */
export type TokenSpec = string | { token: string; props: readonly string[] };

/** What a request may read: every property (null) or only these. */
export interface Grant {
  props: ReadonlySet<string> | null;
}

export interface SitePolicy {
  /** http.host is a loopback address: only loopback Host names (and allowedHosts) are answered. */
  loopbackOnly: boolean;
  /** http.allowedOrigins. */
  allowedOrigins: readonly string[];
  /** http.allowedHosts. */
  allowedHosts: readonly string[];
}

export interface Refusal {
  status: 400 | 401 | 403 | 404 | 503;
  error: string;
  parameter?: string;
  expected?: string;
}

const EVERYTHING: Grant = { props: null };
/** Hashing first makes the comparison constant-time whatever the lengths. */
const digest = (s: string) => createHash('sha256').update(s).digest();

export class AccessDoor {
  private readonly grants: { digest: Buffer; grant: Grant }[];
  private readonly origins: ReadonlySet<string>;
  private readonly hosts: ReadonlySet<string>;
  private readonly loopbackOnly: boolean;

  constructor(tokens: readonly TokenSpec[], site: Partial<SitePolicy> = {}) {
    this.grants = tokens
      .map((t) => (typeof t === 'string' ? { token: t, grant: EVERYTHING } : { token: t.token, grant: { props: new Set(t.props) } }))
      .filter((t) => t.token.length > 0)
      .map((t) => ({ digest: digest(t.token), grant: t.grant }));
    this.origins = new Set((site.allowedOrigins ?? []).map((o) => new URL(o).origin));
    this.hosts = new Set((site.allowedHosts ?? []).map((h) => h.toLowerCase()));
    this.loopbackOnly = site.loopbackOnly ?? false;
  }

  /** No token configured: every request that passes the site check reads everything. */
  get open(): boolean {
    return this.grants.length === 0;
  }

  /** The site check, then the token: what the request may read, or why not. */
  admit(headers: IncomingHttpHeaders, query: URLSearchParams): Grant | Refusal {
    return this.siteRefusal(headers) ?? this.grantFor(tokenOf(headers, query));
  }

  /** Origin and Host (README "Security"); null when the request may go on. */
  siteRefusal(headers: IncomingHttpHeaders): Refusal | null {
    const host = headers.host;
    if (this.loopbackOnly && host !== undefined) {
      const name = hostNameOf(host);
      if (name === null || (!isLoopbackHost(name) && !this.hosts.has(name)))
        return {
          status: 403,
          error: `Host ${JSON.stringify(host.slice(0, 100))} is not answered on a loopback address`,
          parameter: 'Host',
          expected: 'localhost, 127.0.0.1 or [::1] (or a name in http.allowedHosts)',
        };
    }
    const origin = headers.origin;
    if (origin !== undefined && !this.origins.has(origin) && !sameOrigin(origin, host))
      return {
        status: 403,
        error: `Origin ${JSON.stringify(origin.slice(0, 100))} may not read from icwatch`,
        parameter: 'Origin',
        expected: "icwatch's own origin or one of http.allowedOrigins",
      };
    return null;
  }

  private grantFor(token: string | null): Grant | Refusal {
    if (this.open) return EVERYTHING;
    if (token) {
      const d = digest(token);
      let found: Grant | null = null;
      for (const g of this.grants) if (timingSafeEqual(d, g.digest) && !found) found = g.grant; // no early exit
      if (found) return found;
    }
    return {
      status: 401,
      error: token ? 'the token is not accepted' : 'a token is required',
      parameter: 'Authorization',
      expected: `Authorization: Bearer <token>, the subprotocols ${PROTOCOL} + ${BEARER_PROTOCOL_PREFIX}<base64url token>, or ?access_token=<token>`,
    };
  }
}

export const isRefusal = <T extends object>(r: T | Refusal): r is Refusal => 'status' in r;

/**
 * The properties a request reads: those it asked for (null = all) within its grant. Asking for a property outside
 * a scoped token's is refused, naming it; `id` is always allowed (every user frame carries it).
 */
export function scopeProps(grant: Grant, asked: ReadonlySet<string> | null): ReadonlySet<string> | null | Refusal {
  if (!grant.props) return asked;
  if (!asked) return grant.props;
  const outside = [...asked].find((p) => p !== 'id' && !grant.props!.has(p));
  if (outside === undefined) return asked;
  return {
    status: 403,
    error: `props names "${outside.slice(0, 64)}", a property this token may not read`,
    parameter: 'props',
    expected: `properties among ${[...grant.props].join(', ')}`,
  };
}

/** The token of a request: Authorization, then the bearer subprotocol, then ?access_token. */
export function tokenOf(headers: IncomingHttpHeaders, query: URLSearchParams): string | null {
  const h = headers.authorization;
  if (h) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m ? m[1]! : '';
  }
  const offered = headers['sec-websocket-protocol'];
  if (offered) {
    const bearer = offered
      .split(',')
      .map((p) => p.trim())
      .find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
    if (bearer !== undefined) return Buffer.from(bearer.slice(BEARER_PROTOCOL_PREFIX.length), 'base64url').toString('utf8');
  }
  return query.get('access_token');
}

/** The subprotocol to select among those offered: icwatch.v1 when offered (never the token's), else none. */
export function selectProtocol(offered: ReadonlySet<string>): string | false {
  return offered.has(PROTOCOL) ? PROTOCOL : false;
}

/** `origin` is the request's own: same host and port as its Host header (the scheme is the proxy's business). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false; // "null" (a sandboxed frame, a file:) and anything else that is not an origin
  }
  if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
  try {
    return new URL(`${o.protocol}//${host}`).host === o.host;
  } catch {
    return false;
  }
}
