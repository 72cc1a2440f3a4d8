/**
 * What both message transports (short polling, server-sent events) share: the items they emit, the hooks through
 * which they report retries, and which errors end the session instead of being retried.
 */
import type { KnownUserTexts } from '../../mirror/input.js';
import { Observable, type Subscriber } from 'rxjs';
import type { Logger } from '../../log/logger.js';
import type { BackoffOptions } from '../../util/backoff.js';
import type { IcwsConnection } from '../connection.js';
import { sampleOf, type ParseOutcome } from '../parse.js';

export const MESSAGES_PATH = '/messaging/messages';

/**
 * One raw message (a JSON text from SSE, or an element of a poll's array), or the news that something which may
 * have carried messages could not be read (too large, not JSON, lost in transit): the session then asks a resync.
 */
export type TransportItem =
  | { kind: 'message'; raw: unknown }
  /** A message parsed while it was received (a server-sent event, read user by user: src/icws/message-stream.ts). */
  | { kind: 'parsed'; outcome: ParseOutcome }
  | { kind: 'unreadable'; reason: string; sample: string };

export interface TransportHooks {
  /** A request or stream failed and will be retried after `delayMs`. */
  retrying(delayMs: number, why: string): void;
  /** Messages flow again after `retrying`. */
  healthy(): void;
}

export interface TransportOptions {
  connection: IcwsConnection;
  /** Largest poll answer or SSE event accepted (icws.maxMessageBytes). */
  maxMessageBytes: number;
  /** Retries of failed polls / streams (icws.backoff). */
  backoff: BackoffOptions;
  logger: Logger;
  hooks: TransportHooks;
  /**
   * Consecutive failed polls / streams after which the transport gives up (errors with the last failure) so that
   * the session logs in again: a server that failed over never answers this session again.
   */
  failuresBeforeRelogin: number;
  /** Users whose text the mirror holds unchanged: a full replace read by SSE leaves them unparsed (KnownUserTexts, src/mirror/input.ts). */
  knownUserTexts?: KnownUserTexts;
}

/** Errors a transport does not retry (the session is dead, or the API is gone): one rule, in failures.ts. */
export { endsSession } from '../failures.js';

export function unreadable(reason: string, raw: unknown = ''): TransportItem {
  return { kind: 'unreadable', reason, sample: sampleOf(raw) };
}

export const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * An Observable running `loop` until unsubscribed (the signal aborts then). `loop` emits through the subscriber and
 * ends the stream itself (error) only for what the session must handle; an unexpected throw errors the stream too.
 */
export function transportObservable(loop: (subscriber: Subscriber<TransportItem>, signal: AbortSignal) => Promise<void>): Observable<TransportItem> {
  return new Observable<TransportItem>((subscriber) => {
    const abort = new AbortController();
    loop(subscriber, abort.signal).catch((err: unknown) => {
      if (!abort.signal.aborted) subscriber.error(err);
    });
    return () => abort.abort();
  });
}
