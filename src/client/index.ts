/**
 * `icwatch/client`: a typed consumer of icwatch's directory for browsers and Node, with the protocol's frames and
 * close table (src/protocol) it is built on.
 *
 *   const client = new IcwatchClient({ url: 'http://127.0.0.1:8080', snapshot: 'http' }).start();
 *   client.on('change', (c) => console.log(c.seq, c.op, c.id, client.get(c.id)));
 *   client.on('status', (s) => console.log(s.seq, s.id, s.status?.statusId, client.workgroups()));
 */
import { parseServerFrame } from '../protocol/frames.js';

export {
  IcwatchClient,
  CLIENT_BACKOFF,
  CLIENT_HTTP_TIMEOUT_MS,
  CLIENT_KEEPALIVE_MS,
  type ClientEvents,
  type ClientState,
  type IcwatchClientOptions,
} from './client.js';
export { UserDirectory, type Change } from './directory.js';
export type { StatusChange, UserStatus, WorkgroupCounts } from './presence.js';
export {
  parseServerFrame,
  type ClientFrame,
  type ErrorFrame,
  type HelloFrame,
  type PingFrame,
  type PongFrame,
  type RemoveFrame,
  type ResetFrame,
  type ResetReason,
  type ServerFrame,
  type SnapshotFrame,
  type StatusFrame,
  type UpsertFrame,
  type UserProps,
  type UserRecord,
} from '../protocol/frames.js';
export { CLOSE, closeCode, type CloseCode, type CloseName, type ReconnectAdvice } from '../protocol/close-codes.js';
export type { UsersSnapshot } from '../protocol/users-snapshot.js';
export { ConnectionEndedError, RefusedError, type FetchLike, type WebSocketFactory, type WebSocketLike } from './transport.js';
export type { BackoffOptions } from '../util/backoff.js';

/** @deprecated The same as parseServerFrame (its name from before the protocol module named client frames too). */
export const parseFrame: typeof parseServerFrame = parseServerFrame;
