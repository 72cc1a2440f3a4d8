/**
 * `icwatch/client`: a typed consumer of icwatch's directory for browsers and Node.
 *
 *   const client = new IcwatchClient({ url: 'http://127.0.0.1:8080', snapshot: 'http' }).start();
 *   client.on('change', (c) => console.log(c.seq, c.op, c.id, client.get(c.id)));
 */
export {
  IcwatchClient,
  CLIENT_BACKOFF,
  CLIENT_HTTP_TIMEOUT_MS,
  CLIENT_KEEPALIVE_MS,
  type ClientEvents,
  type ClientState,
  type IcwatchClientOptions,
} from './client.js';
export { UserDirectory } from './directory.js';
export {
  parseFrame,
  type Change,
  type HelloFrame,
  type ResetFrame,
  type ServerFrame,
  type UserProps,
  type UserRecord,
  type UsersSnapshot,
} from './protocol.js';
export { RefusedError, type FetchLike, type WebSocketFactory, type WebSocketLike } from './transport.js';
export type { BackoffOptions } from '../util/backoff.js';
