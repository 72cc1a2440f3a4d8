/**
 * The two ways in: a WebSocket (the global one in browsers, the `ws` package in Node) and the HTTP snapshot (fetch).
 * Only the WHATWG WebSocket interface is used, which `ws` implements too, so one code path serves both; `ws` is
 * loaded lazily and only in Node, so a browser never needs it.
 */
import { BEARER_PROTOCOL_PREFIX, PROTOCOL } from '../protocol/subprotocols.js';
import type { UsersSnapshot } from '../protocol/users-snapshot.js';

/** The part of the WHATWG WebSocket the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** Opens a WebSocket to `url`; `token`, when given, is sent as `Authorization: Bearer` where the implementation can. */
export type WebSocketFactory = (url: string, token: string | undefined) => WebSocketLike;

/** The server refused the request (HTTP 400, 401, 404…): retrying the same request will not help. */
export class RefusedError extends Error {
  override name = 'RefusedError';
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`the server refused the connection: HTTP ${status}${body ? ` ${body}` : ''}`);
  }
}

type WsModule = { default: new (url: string, options: { headers: Record<string, string>; perMessageDeflate: boolean }) => WebSocketLike & NodeWsExtras };
/** What `ws` adds: the refused upgrade's HTTP answer, and cutting the socket without a close handshake. */
interface NodeWsExtras {
  on(event: 'unexpected-response', listener: (req: unknown, res: HttpAnswer) => void): void;
  terminate(): void;
}
interface HttpAnswer {
  statusCode?: number;
  setEncoding(e: string): void;
  on(event: 'data' | 'end', listener: (chunk?: string) => void): void;
}

/** Called with a RefusedError when a `ws` upgrade is answered with an HTTP error. */
export type OnRefused = (err: RefusedError) => void;

/**
 * The subprotocols that carry `token`, as the Kubernetes API server takes them: a browser cannot set headers on an
 * upgrade, and a token in the URL would end in histories and access logs. base64url without padding (a subprotocol
 * is an HTTP token: no `=`).
 */
export function bearerProtocols(token: string): string[] {
  const bytes = new TextEncoder().encode(token);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  const b64 = btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return [PROTOCOL, `${BEARER_PROTOCOL_PREFIX}${b64}`];
}

/**
 * The default factory: in Node `ws`, with an Authorization header; elsewhere (or where `ws` cannot be loaded) the
 * global WebSocket, the token then travelling in the subprotocols since a browser cannot set headers on an upgrade.
 * Node ≥ 22 has a global WebSocket too, but like a browser's it hides the HTTP answer of a refused upgrade (400, 401):
 * the client would retry a wrong token or query for ever where `ws` lets it stop (state `refused`), and the token
 * would have to travel in the subprotocols, where `ws` sends a header.
 */
export async function defaultWebSocketFactory(onRefused: OnRefused): Promise<WebSocketFactory> {
  const Global = (globalThis as { WebSocket?: new (url: string, protocols?: string[]) => WebSocketLike }).WebSocket;
  const inNode = typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string';
  const Ws = inNode || !Global ? await importWs(Global !== undefined) : undefined;
  if (!Ws) {
    return (url, token) => (token ? new Global!(url, bearerProtocols(token)) : new Global!(url));
  }
  return (url, token) => {
    const ws = new Ws(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, perMessageDeflate: false });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += (d ?? '').slice(0, 4096)));
      res.on('end', () => {
        onRefused(new RefusedError(res.statusCode ?? 0, body));
        ws.terminate();
      });
    });
    return ws;
  };
}

/** The `ws` package; undefined when it cannot be loaded and `optional` (there is a global WebSocket to fall back on). */
async function importWs(optional: boolean): Promise<WsModule['default'] | undefined> {
  const name = 'ws'; // a variable, so that bundlers for the browser leave this import alone
  try {
    return ((await import(name)) as WsModule).default;
  } catch (err) {
    if (optional) return undefined;
    throw err;
  }
}

/** Cuts a connection as a network failure would (`ws` can; a browser socket can only be closed). */
export function cut(ws: WebSocketLike): void {
  const t = (ws as Partial<NodeWsExtras>).terminate;
  if (typeof t === 'function') t.call(ws);
  else ws.close(4000, 'dropped by the client');
}

/**
 * The server closed the connection with a code whose advice is `never` (1008 too many bad frames, 1009 frame too
 * big: src/protocol/close-codes.ts): the client broke the protocol, and a new connection would be closed again.
 */
export class ConnectionEndedError extends Error {
  override name = 'ConnectionEndedError';
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`the server closed the connection (${code}${reason ? ` ${reason}` : ''}) and advises not to reconnect`);
  }
}

export interface FetchLike {
  (url: string, init: { headers: Record<string, string>; signal?: AbortSignal }): Promise<{ status: number; text(): Promise<string> }>;
}

/** GET the HTTP snapshot; throws RefusedError on a 4xx, an Error on anything else that is not a 200 with a body. */
export async function fetchSnapshot(fetchFn: FetchLike, url: string, token: string | undefined, timeoutMs: number): Promise<UsersSnapshot> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetchFn(url, { headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, signal: abort.signal });
    const text = await res.text();
    if (res.status >= 400 && res.status < 500) throw new RefusedError(res.status, text.slice(0, 4096));
    if (res.status !== 200) throw new Error(`GET ${new URL(url).pathname} answered HTTP ${res.status}`);
    const body = JSON.parse(text) as UsersSnapshot;
    if (!body || !Number.isSafeInteger(body.seq) || !Array.isArray(body.users)) throw new Error('the HTTP snapshot has no seq or users');
    return body;
  } catch (err) {
    if (abort.signal.aborted) throw new Error(`GET ${new URL(url).pathname} did not answer within ${timeoutMs} ms`, { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
