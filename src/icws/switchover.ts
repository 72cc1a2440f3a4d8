/**
 * Login with switchover (docs/icws.md "Connecting"): a server that answers 503 is a backup or is switching over, and
 * its body lists the hosts to try instead (same scheme and port, or where icws.alternateUrlTemplate says: behind the
 * vendor's web proxy the server is a path segment). A server that does not answer at all (network
 * failure) may have failed over too: then the alternates it listed at the last successful login are tried. Each
 * host is tried once per round; when none accepted, the most telling error is thrown and the caller backs off.
 */
import type { Logger } from '../log/logger.js';
import { serverAt, type IcwsConnection, type SessionInfo } from './connection.js';
import { IcwsNetworkError, IcwsUnavailableError } from './errors.js';

export interface SwitchoverOptions {
  /** Base URLs to try first, in order (e.g. the host that last accepted us, then the configured one). */
  first: string[];
  /** alternateHostList of the last successful login: tried when a host does not answer. */
  knownAlternates?: string[];
  signal?: AbortSignal;
  logger: Logger;
  /** Told before each login attempt (for the session state). */
  onAttempt?(baseUrl: string): void;
}

export async function connectWithSwitchover(connection: IcwsConnection, options: SwitchoverOptions): Promise<SessionInfo> {
  const queue = [...options.first];
  const tried = new Set<string>();
  const untried = (hosts: string[]) => hosts.map((h) => connection.alternateUrl(h)).filter((u) => !tried.has(u) && !queue.includes(u));
  /** A network failure says more than a 503 from a backup: it is thrown first. */
  let networkFailure: IcwsNetworkError | undefined;
  let unavailable: IcwsUnavailableError | undefined;
  for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
    if (tried.has(url)) continue;
    tried.add(url);
    options.onAttempt?.(url);
    try {
      return await connection.connect(url, options.signal);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      let next: string[];
      if (err instanceof IcwsUnavailableError) {
        unavailable = err;
        next = untried(err.alternateHostList);
        options.logger.warn(`ICWS at ${serverAt(url)} is not accepting connections (${err.errorId ?? err.status}: ${err.serverMessage})` + describeNext(next));
      } else if (err instanceof IcwsNetworkError && options.knownAlternates?.length) {
        networkFailure ??= err;
        next = untried(options.knownAlternates);
        if (next.length) options.logger.warn(`ICWS at ${serverAt(url)} does not answer (${err.code})` + describeNext(next));
      } else {
        throw err;
      }
      queue.push(...next);
    }
  }
  throw networkFailure ?? unavailable ?? new Error('no ICWS host to connect to');
}

const describeNext = (next: string[]) => (next.length ? `; trying ${next.map(serverAt).join(', ')}` : '; no other host to try');
