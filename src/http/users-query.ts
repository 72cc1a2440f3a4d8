/**
 * What an HTTP read asks for (the README's "HTTP reads"): the same token and the same `ids` / `props` rules as the
 * WebSocket upgrade (parsed by the fan-out's own request parser), plus at most one indexed property to look a user
 * up by value; the workgroup and status reads take `props` at most, and a scoped token must list what they are made
 * of. Bad input is a Refusal naming the parameter and what was expected.
 */
import type { IncomingMessage } from 'node:http';
import type { MirroredProps } from '../fanout/mirrored-props.js';
import type { AccessDoor, Grant } from '../fanout/access.js';
import { isRefusal, parseClientRequest, type ClientRequest, type Refusal, type RequestLimits } from '../fanout/request.js';

export interface UsersQuery {
  ids: ReadonlySet<string> | null;
  props: ReadonlySet<string> | null;
  /** `?extension=2001`: the property and the value looked up through the index. */
  lookup: { property: string; value: string } | null;
}

/** Only the site and the token of the request (/v1/status, /metrics): what it may read, or why not. */
export function admitRequest(req: IncomingMessage, door: AccessDoor): Grant | Refusal {
  return door.admit(req.headers, new URL(req.url ?? '/', 'http://localhost').searchParams);
}

export function parseUsersQuery(
  req: IncomingMessage,
  door: AccessDoor,
  limits: RequestLimits,
  mirrored: MirroredProps,
  indexed: readonly string[],
  single: boolean,
): UsersQuery | Refusal {
  const admitted = admitRequest(req, door);
  if (isRefusal(admitted)) return admitted;
  const u = new URL(req.url ?? '/', 'http://localhost');
  const allowed = single ? ['props', 'access_token'] : ['ids', 'props', 'access_token', ...indexed];
  const expected = `parameters ${allowed.join(', ')}${single ? '' : ` (${indexed.length ? `at most one of ${indexed.join(', ')}: the indexed properties` : 'no property is indexed'})`}`;
  const lookups: string[] = [];
  const rest = new URLSearchParams();
  for (const [key, value] of u.searchParams) {
    if (key === 'since' || key === 'epoch')
      return { status: 400, error: `${key} is a WebSocket parameter: HTTP reads always answer the current state`, parameter: key, expected };
    if (!allowed.includes(key)) return { status: 400, error: `unknown parameter "${key.slice(0, 64)}"`, parameter: key.slice(0, 64), expected };
    if (indexed.includes(key)) {
      if (lookups.includes(key)) return { status: 400, error: `${key} is given more than once`, parameter: key, expected: `a single ${key}` };
      lookups.push(key);
      if (value === '') return { status: 400, error: `${key} is empty`, parameter: key, expected: `the value to look up, e.g. ?${key}=2001` };
    } else rest.append(key, value);
  }
  if (lookups.length > 1)
    return {
      status: 400,
      error: `more than one indexed property: ${lookups.join(', ')}`,
      parameter: lookups[1]!,
      expected: 'one indexed property per request',
    };
  const query = rest.toString();
  const parsed: ClientRequest | Refusal = parseClientRequest(withTarget(req, `/${query ? `?${query}` : ''}`), door, limits, mirrored);
  if (isRefusal(parsed)) return parsed;
  if (lookups.length && parsed.ids)
    return { status: 400, error: `ids and ${lookups[0]} cannot be combined`, parameter: 'ids', expected: `either ids or ${lookups[0]}` };
  const property = lookups[0];
  return { ids: parsed.ids, props: parsed.props, lookup: property ? { property, value: u.searchParams.get(property)! } : null };
}

/** The request as the fan-out's parser reads it (target and headers), with another target. */
function withTarget(req: IncomingMessage, url: string): IncomingMessage {
  return { url, headers: req.headers } as IncomingMessage;
}

/** What a read of workgroups or statuses asks for: the properties of the users it lists (null = all). */
export interface PresenceQuery {
  props: ReadonlySet<string> | null;
}

export interface PresenceQueryRules {
  /** The read, for messages (`GET /v1/workgroups`). */
  read: string;
  /** Whether `props` may be given (a read that lists users). */
  props: boolean;
  /** The properties the answer is made of: a scoped token must list each of them. */
  needs: readonly string[];
}

/** The query of `GET /v1/workgroups[/<id>]` or `GET /v1/statuses`: the door, then the parameters, then the token's scope. */
export function parsePresenceQuery(
  req: IncomingMessage,
  door: AccessDoor,
  limits: RequestLimits,
  mirrored: MirroredProps,
  rules: PresenceQueryRules,
): PresenceQuery | Refusal {
  const admitted = admitRequest(req, door);
  if (isRefusal(admitted)) return admitted;
  const allowed = rules.props ? ['props', 'access_token'] : ['access_token'];
  const expected = `parameters ${allowed.join(', ')}`;
  for (const key of new URL(req.url ?? '/', 'http://localhost').searchParams.keys()) {
    if (key === 'since' || key === 'epoch')
      return { status: 400, error: `${key} is a WebSocket parameter: HTTP reads always answer the current state`, parameter: key, expected };
    if (!allowed.includes(key)) return { status: 400, error: `unknown parameter "${key.slice(0, 64)}"`, parameter: key.slice(0, 64), expected };
  }
  const parsed = parseClientRequest(req, door, limits, mirrored);
  if (isRefusal(parsed)) return parsed;
  const missing = admitted.props ? rules.needs.filter((p) => !admitted.props!.has(p)) : [];
  if (missing.length)
    return {
      status: 403,
      error: `${rules.read} reads the users' ${rules.needs.join(' and ')}: this token may not read ${missing.map((p) => `"${p}"`).join(', ')}`,
      parameter: 'Authorization',
      expected: `a token whose props list ${rules.needs.join(', ')} (or one without props)`,
    };
  return { props: parsed.props };
}
