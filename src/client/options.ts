/** What an IcwatchClient is given, the events it emits, and the endpoints it derives from its URL. */
import type { BackoffOptions } from '../util/backoff.js';
import type { HelloFrame, ResetFrame, ServerFrame } from '../protocol/frames.js';
import type { Change } from './directory.js';
import type { StatusChange } from './presence.js';
import type { ConnectionEndedError, FetchLike, RefusedError, WebSocketFactory } from './transport.js';

export interface IcwatchClientOptions {
  /** The endpoint: ws(s)://host:port/v1/users or http(s)://host:port[/v1/users]; either scheme gives both. */
  url: string;
  token?: string;
  /** Follow these users only. */
  ids?: string[];
  /** Receive these properties only. */
  props?: string[];
  /** Where the first picture comes from: `http` (GET /v1/users, then the WebSocket from its seq) or `websocket`. */
  snapshot?: 'http' | 'websocket';
  /** A resume point to start from (epoch may be left out: the server's is adopted). */
  since?: number;
  epoch?: string;
  /** Properties looked up by value through an index (`find`); default extension. */
  indexes?: string[];
  /** Reconnect after a drop (default true); never after a close whose advice is `never` (1008, 1009). */
  reconnect?: boolean;
  backoff?: BackoffOptions;
  /** With nothing received for this long the client sends a ping; after twice this, it reconnects. */
  keepaliveMs?: number;
  /** The HTTP snapshot must answer within this. */
  httpTimeoutMs?: number;
  /** Replacements for the platform's WebSocket and fetch. */
  webSocket?: WebSocketFactory;
  fetch?: FetchLike;
}

/**
 * idle → connecting → syncing → live; waiting = before the next attempt (a backoff, or none after 4008); refused
 * (the upgrade refused with 400/401, or a close whose advice is `never`) and stopped are final.
 */
export type ClientState = 'idle' | 'connecting' | 'syncing' | 'live' | 'waiting' | 'refused' | 'stopped';

export interface ClientEvents {
  /** A change applied to the local map (after it was applied). */
  change: (change: Change) => void;
  /** A status frame applied to the local map (after it was applied): `status` is the user's status now, undefined when it has none. */
  status: (change: StatusChange) => void;
  /** The local map holds the server's state as of `seq` (after a snapshot, or a resume that caught up). */
  synced: (seq: number) => void;
  /** The local map is about to be replaced by a fresh snapshot (a new epoch, or the server could not resume). */
  reset: (frame: ResetFrame) => void;
  state: (state: ClientState, detail?: string) => void;
  hello: (frame: HelloFrame) => void;
  /** Every frame, raw and parsed. */
  frame: (text: string, frame: ServerFrame) => void;
  open: () => void;
  close: (code: number, reason: string) => void;
  /** The server refused the request (bad query, token missing or not accepted): the client stops. */
  refused: (err: RefusedError) => void;
  /** The server closed with a code whose advice is `never` (1008, 1009): the client stops (state `refused`). */
  ended: (err: ConnectionEndedError) => void;
  /** An unfiltered client saw a seq it did not expect (never with a correct server). */
  gap: (expected: number, got: number) => void;
  error: (err: Error) => void;
}

export const CLIENT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 15000, multiplier: 2, jitter: 0.5 };
export const CLIENT_KEEPALIVE_MS = 30000;
export const CLIENT_HTTP_TIMEOUT_MS = 30000;

/** Both endpoints from either form of the URL (a bare origin means the default path). */
export function endpoints(url: string): { ws: URL; http: URL } {
  const u = new URL(url);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/users';
  const secure = u.protocol === 'wss:' || u.protocol === 'https:';
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(u.protocol)) throw new TypeError(`url: expected ws://, wss://, http:// or https://, got ${u.protocol}`);
  const ws = new URL(u);
  ws.protocol = secure ? 'wss:' : 'ws:';
  const http = new URL(u);
  http.protocol = secure ? 'https:' : 'http:';
  for (const target of [ws, http]) target.search = u.search;
  return { ws, http };
}
