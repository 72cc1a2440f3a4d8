/**
 * What a client asks for in its upgrade request (README, "The WebSocket protocol"): token, resume point and filters.
 * Bad input is refused before upgrading, with an HTTP status and a JSON body naming the parameter and what was
 * expected.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { MirroredProps } from './mirrored-props.js';
import { isRefusal, scopeProps, type AccessDoor, type Refusal } from './access.js';

export { isRefusal, type Refusal } from './access.js';

export interface ClientRequest {
  since: number | null;
  epoch: string | null;
  ids: ReadonlySet<string> | null;
  /** The properties sent: those asked for within the token's scope (null = all). */
  props: ReadonlySet<string> | null;
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

function list(value: string, parameter: string, expected: string): string[] | Refusal {
  const items = value.split(',');
  if (value === '' || items.some((i) => i === '')) return { status: 400, error: `${parameter} has an empty item`, parameter, expected };
  return items;
}

/**
 * Parses the request target; `url` is req.url (path and query). `mirrored`: the names `props` may use (none given:
 * any property name).
 */
export function parseClientRequest(req: IncomingMessage, door: AccessDoor, limits: RequestLimits, mirrored?: MirroredProps): ClientRequest | Refusal {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const q = url.searchParams;
  const grant = door.admit(req.headers, q);
  if (isRefusal(grant)) return grant;
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
  const scoped = scopeProps(grant, out.props);
  if (scoped !== null && isRefusal(scoped)) return scoped;
  out.props = scoped;
  return out;
}

const REASON: Record<Refusal['status'], string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/** Answers an upgrade request with an HTTP error and a JSON body, then closes the socket. */
export function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  const { status, ...body } = refusal;
  const json = JSON.stringify(body);
  const headers = [`HTTP/1.1 ${status} ${REASON[status]}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(json)}`, 'Connection: close'];
  if (status === 401) headers.push('WWW-Authenticate: Bearer realm="icwatch"');
  if (socket.writable) socket.end(`${headers.join('\r\n')}\r\n\r\n${json}`);
  else socket.destroy();
}
