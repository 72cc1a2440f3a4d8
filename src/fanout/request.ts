/**
 * What a client asks for in its upgrade request (README, "The WebSocket protocol"): token, resume point and filters.
 * Bad input is refused before upgrading, with an HTTP status and a JSON body naming the parameter and what was
 * expected.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { MirroredProps } from './mirrored-props.js';

export interface ClientRequest {
  since: number | null;
  epoch: string | null;
  ids: ReadonlySet<string> | null;
  props: ReadonlySet<string> | null;
}

export interface Refusal {
  status: 400 | 401 | 404 | 503;
  error: string;
  parameter?: string;
  expected?: string;
  /** A `props` naming what the mirror does not hold: the names it may use. */
  allowed?: string[];
}

export interface RequestLimits {
  /** Most user ids one `ids` filter may name. */
  maxFilterIds: number;
  /** Longest user id accepted in `ids`. */
  maxIdLength: number;
}

const PROPERTY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EPOCH = /^[\w.:-]{1,128}$/;
const KNOWN = new Set(['since', 'epoch', 'ids', 'props', 'access_token']);

/** Hashing first makes the comparison constant-time whatever the lengths. */
const digest = (s: string) => createHash('sha256').update(s).digest();

export class TokenCheck {
  private readonly digests: Buffer[];
  constructor(tokens: readonly string[]) {
    this.digests = tokens.filter((t) => t.length > 0).map(digest);
  }
  get open(): boolean {
    return this.digests.length === 0;
  }
  accepts(token: string | null): boolean {
    if (this.open) return true;
    if (!token) return false;
    const d = digest(token);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(d, known) || ok; // no early exit
    return ok;
  }
}

function bearer(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1]! : '';
}

function list(value: string, parameter: string, expected: string): string[] | Refusal {
  const items = value.split(',');
  if (value === '' || items.some((i) => i === '')) return { status: 400, error: `${parameter} has an empty item`, parameter, expected };
  return items;
}

/**
 * Parses the request target; `url` is req.url (path and query). `mirrored`: the names `props` may use (none given:
 * any property name).
 */
export function parseClientRequest(req: IncomingMessage, tokens: TokenCheck, limits: RequestLimits, mirrored?: MirroredProps): ClientRequest | Refusal {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const q = url.searchParams;
  const token = bearer(req) ?? q.get('access_token');
  if (!tokens.accepts(token)) {
    return {
      status: 401,
      error: token ? 'the token is not accepted' : 'a token is required',
      parameter: 'Authorization',
      expected: 'Authorization: Bearer <token> or ?access_token=<token>',
    };
  }
  const seen = new Set<string>();
  for (const key of q.keys()) {
    if (!KNOWN.has(key))
      return {
        status: 400,
        error: `unknown parameter "${key.slice(0, 64)}"`,
        parameter: key.slice(0, 64),
        expected: 'one of since, epoch, ids, props, access_token',
      };
    if (seen.has(key)) return { status: 400, error: `${key} is given more than once`, parameter: key, expected: `a single ${key}` };
    seen.add(key);
  }
  const out: ClientRequest = { since: null, epoch: null, ids: null, props: null };
  const since = q.get('since');
  if (since !== null) {
    const n = Number(since);
    if (!/^\d+$/.test(since) || !Number.isSafeInteger(n))
      return { status: 400, error: 'since is not a sequence number', parameter: 'since', expected: 'a non-negative integer' };
    out.since = n;
  }
  const epoch = q.get('epoch');
  if (epoch !== null) {
    if (!EPOCH.test(epoch))
      return { status: 400, error: 'epoch is not an epoch id', parameter: 'epoch', expected: 'the epoch of a hello frame (1-128 letters, digits, _ . : -)' };
    out.epoch = epoch;
  }
  const ids = q.get('ids');
  if (ids !== null) {
    const items = list(ids, 'ids', 'comma-separated user ids');
    if (!Array.isArray(items)) return items;
    if (items.length > limits.maxFilterIds)
      return { status: 400, error: `ids names ${items.length} users`, parameter: 'ids', expected: `at most ${limits.maxFilterIds} user ids` };
    if (items.some((i) => i.length > limits.maxIdLength))
      return { status: 400, error: 'ids has an id that is too long', parameter: 'ids', expected: `user ids of at most ${limits.maxIdLength} characters` };
    out.ids = new Set(items);
  }
  const props = q.get('props');
  if (props !== null) {
    const items = list(props, 'props', 'comma-separated property names');
    if (!Array.isArray(items)) return items;
    const bad = items.find((p) => !PROPERTY.test(p));
    if (bad !== undefined)
      return {
        status: 400,
        error: `props has "${bad.slice(0, 64)}", not a property name`,
        parameter: 'props',
        expected: 'comma-separated property names (letters, digits, _)',
      };
    out.props = new Set(items);
    const outside = mirrored?.refusal(out.props);
    if (outside) return outside;
  }
  return out;
}

export const isRefusal = (r: ClientRequest | Refusal): r is Refusal => 'status' in r;

const REASON: Record<Refusal['status'], string> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 503: 'Service Unavailable' };

/** Answers an upgrade request with an HTTP error and a JSON body, then closes the socket. */
export function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  const { status, ...body } = refusal;
  const json = JSON.stringify(body);
  const headers = [`HTTP/1.1 ${status} ${REASON[status]}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(json)}`, 'Connection: close'];
  if (status === 401) headers.push('WWW-Authenticate: Bearer realm="icwatch"');
  if (socket.writable) socket.end(`${headers.join('\r\n')}\r\n\r\n${json}`);
  else socket.destroy();
}
