/**
 * Short polling (docs/icws.md "Messages"): GET /messaging/messages, one request in flight, icws.pollIntervalMs between
 * polls. Each answer is a JSON array that the server has already removed from its queue, so an answer that cannot
 * be read (not an array, over icws.maxMessageBytes, or cut off by a network failure) is reported as `unreadable`:
 * the session asks a full resync so that nothing is lost. 5xx and network failures are retried with backoff.
 */
import type { Observable } from 'rxjs';
import { Backoff, sleep } from '../../util/backoff.js';
import { IcwsNetworkError } from '../errors.js';
import { describe, endsSession, MESSAGES_PATH, unreadable, transportObservable, type TransportItem, type TransportOptions } from './types.js';

export const POLL_ROUTE = 'GET messages';

export interface PollOptions extends TransportOptions {
  pollIntervalMs: number;
  /** Time limit of one poll (icws.requestTimeoutMs). */
  requestTimeoutMs: number;
}

export function pollMessages(options: PollOptions): Observable<TransportItem> {
  return transportObservable(async (subscriber, signal) => {
    const backoff = new Backoff(options.backoff);
    let failures = 0;
    /** A poll failed without an answer: the server may have dequeued messages we never read. */
    let mayHaveLost = false;
    while (!signal.aborted) {
      let delay = options.pollIntervalMs;
      try {
        const res = await options.connection.request('GET', MESSAGES_PATH, { route: POLL_ROUTE, signal, timeoutMs: options.requestTimeoutMs });
        if (failures > 0) {
          failures = 0;
          backoff.reset();
          options.hooks.healthy();
        }
        if (mayHaveLost) {
          mayHaveLost = false;
          subscriber.next(unreadable('an earlier poll failed without an answer; the messages it carried may be lost'));
        }
        if (Array.isArray(res.body)) for (const raw of res.body) subscriber.next({ kind: 'message', raw });
        else if (res.text.trim() !== '') subscriber.next(unreadable('poll answer is not a JSON array', res.text));
      } catch (err) {
        if (signal.aborted) return;
        if (endsSession(err)) return subscriber.error(err);
        if (err instanceof IcwsNetworkError && err.code === 'ETOOLARGE') {
          options.logger.error(`poll answer rejected: ${err.message}; asking a full resync`);
          subscriber.next(unreadable(`poll answer over ${options.maxMessageBytes} bytes (icws.maxMessageBytes)`));
        } else {
          if (err instanceof IcwsNetworkError) mayHaveLost = true;
          if (++failures >= options.failuresBeforeRelogin) return subscriber.error(err);
          delay = backoff.next();
          options.hooks.retrying(delay, describe(err));
        }
      }
      await sleep(delay, signal).catch(() => undefined);
    }
  });
}
