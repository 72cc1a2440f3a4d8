/**
 * Login with switchover (NOTES.md "Connecting"): a server that answers 503 is a backup or is switching over, and
 * its body lists the hosts to try instead (same scheme and port). Each host is tried once per round; when every
 * one answered 503 the last error is thrown and the caller backs off before the next round.
 */
import type { Logger } from '../log/logger.js';
import type { IcwsConnection, SessionInfo } from './connection.js';
import { IcwsUnavailableError } from './errors.js';

export interface SwitchoverOptions {
  /** Base URLs to try first, in order (e.g. the host that last accepted us, then the configured one). */
  first: string[];
  signal?: AbortSignal;
  logger: Logger;
  /** Told before each login attempt (for the session state). */
  onAttempt?(baseUrl: string): void;
}

export async function connectWithSwitchover(connection: IcwsConnection, options: SwitchoverOptions): Promise<SessionInfo> {
  const queue = [...options.first];
  const tried = new Set<string>();
  let last: IcwsUnavailableError | undefined;
  for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
    if (tried.has(url)) continue;
    tried.add(url);
    options.onAttempt?.(url);
    try {
      return await connection.connect(url, options.signal);
    } catch (err) {
      if (!(err instanceof IcwsUnavailableError)) throw err;
      last = err;
      const next = err.alternateHostList.map((host) => connection.alternateUrl(host)).filter((u) => !tried.has(u));
      options.logger.warn(`ICWS at ${new URL(url).host} is not accepting connections (${err.errorId ?? err.status}: ${err.serverMessage})` +
        (next.length ? `; trying ${next.map((u) => new URL(u).host).join(', ')}` : '; no other host to try'));
      queue.push(...next);
    }
  }
  throw last ?? new Error('no ICWS host to connect to');
}
