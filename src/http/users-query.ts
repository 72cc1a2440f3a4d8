/**
 * What an HTTP read asks for (the README's "HTTP reads"): the same token and the same `ids` / `props` rules as the
 * WebSocket upgrade (parsed by the fan-out's own request parser), plus at most one indexed property to look a user
 * up by value. Bad input is a Refusal naming the parameter and what was expected.
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
