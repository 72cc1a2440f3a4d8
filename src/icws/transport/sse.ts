/**
 * Server-sent events (docs/icws.md "Messages", feature messaging ≥ 2): GET /messaging/messages with
 * Accept: text/event-stream, one message object per `data:` field, `:` comments as pings, `retry:` lines as the
 * server's reconnect delay (waited before reopening a stream that failed). The stream is reopened on its own: after
 * the server ends it, after a network failure, and when it stays silent (no event, no ping) for
 * icws.sseIdleTimeoutMs. Each event is parsed while it arrives (sse-reader.ts). Events in flight when a stream breaks may
 * be lost, so the first item after such a reopen is `unreadable` (the session asks a full resync).
 */
import type { Observable, Subscriber } from 'rxjs';
import { Backoff, sleep } from '../../util/backoff.js';
import type { IcwsConnection } from '../connection.js';
import { IcwsConfigError } from '../errors.js';
import { MessageTooLargeError } from '../message-stream.js';
import { SseReader } from './sse-reader.js';
import { describe, endsSession, MESSAGES_PATH, unreadable, transportObservable, type TransportItem, type TransportOptions } from './types.js';
import { Utf8Decoder } from './utf8-decoder.js';

export const SSE_ROUTE = 'GET messages (sse)';
/** Reading a stream's buffered data yields to other work after this long. */
const YIELD_AFTER_MS = 10;

export interface SseOptions extends TransportOptions {
  sseIdleTimeoutMs: number;
  /** Time limit for the stream's response headers (icws.requestTimeoutMs). */
  requestTimeoutMs: number;
}

/** How one opened stream ended. */
type StreamEnd = { type: 'ended' } | { type: 'idle' } | { type: 'too-large'; what: string } | { type: 'error'; error: unknown };

export function streamMessages(options: SseOptions): Observable<TransportItem> {
  return transportObservable(async (subscriber, signal) => {
    const backoff = new Backoff(options.backoff);
    /** retrying() was told and healthy() not yet. */
    let failing = false;
    /** Consecutive streams that could not be opened or broke. */
    let failures = 0;
    let mayHaveLost = false;
    /** The server's `retry:` value: the least we wait before reopening a stream it ended. */
    let serverRetryMs = 0;
    while (!signal.aborted) {
      let end: StreamEnd;
      let delivered = false;
      try {
        const stream = await options.connection.openStream(MESSAGES_PATH, { route: SSE_ROUTE, signal, timeoutMs: options.requestTimeoutMs });
        const contentType = String(stream.response?.headers['content-type'] ?? '');
        if (!contentType.startsWith('text/event-stream')) {
          stream.destroy();
          // Retrying cannot help: the server answers this URL, but not with events.
          return subscriber.error(
            new IcwsConfigError(
              200,
              SSE_ROUTE,
              undefined,
              `the server answered the event-stream request with "${contentType}", not text/event-stream: it does not offer server-sent events; set it to auto or poll`,
              'icws.transport',
            ),
          );
        }
        failures = 0;
        if (failing) {
          failing = false;
          options.hooks.healthy();
        }
        if (mayHaveLost) {
          mayHaveLost = false;
          subscriber.next(unreadable('the event stream was reopened; events in flight when it broke may be lost'));
        }
        end = await consume(stream, options, subscriber, signal, {
          onRetry: (ms) => (serverRetryMs = ms),
          onEvent: () => {
            delivered = true;
            backoff.reset();
          },
        });
      } catch (err) {
        end = { type: 'error', error: err };
      }
      if (signal.aborted) return;
      if (end.type === 'error' && endsSession(end.error)) return subscriber.error(end.error);
      // A server ends the streams of a session it expired or logged out: ask it at once rather than after the
      // retry delay, so that a dead session is replaced without waiting (docs/icws.md "Errors").
      if (end.type === 'ended') {
        const gone = await sessionGone(options, signal);
        if (signal.aborted) return;
        if (gone) return subscriber.error(gone);
      }
      let why: string;
      if (end.type === 'too-large') {
        // The resync is asked once the new stream is open: a full replace sent while this one is being torn
        // down would be written into the dying connection and lost.
        options.logger.error(`event rejected: ${end.what} (icws.maxMessageBytes); reopening the stream, then asking a full resync`);
        mayHaveLost = true;
        why = 'an event was too large';
      } else {
        mayHaveLost = true;
        why = whyEnded(end, options);
      }
      // A stream that opened and then ended is not a failure of the server; one that could not open is.
      if (end.type === 'error' && ++failures >= options.failuresBeforeRelogin) return subscriber.error(end.error);
      failing = true;
      // A stream that worked and that the server then closed is reopened at once: most often its session ended, and
      // the reopen's 401 says so without waiting. The server's retry (and the backoff) space out streams that fail.
      const delay = end.type === 'ended' && delivered ? 0 : Math.min(Math.max(backoff.next(), serverRetryMs), options.backoff.maxMs);
      options.hooks.retrying(delay, why);
      await sleep(delay, signal).catch(() => undefined);
    }
  });
}

type OpenStream = Awaited<ReturnType<IcwsConnection['openStream']>>;

/** Why a stream ended, as its log line and a full replace it cut short say it. */
function whyEnded(end: StreamEnd, options: SseOptions): string {
  switch (end.type) {
    case 'too-large':
      return `an event was too large (${end.what})`;
    case 'idle':
      return `the event stream was silent for ${options.sseIdleTimeoutMs} ms (icws.sseIdleTimeoutMs)`;
    case 'ended':
      return 'the server ended the event stream';
    case 'error':
      return describe(end.error);
  }
}

/** GET /connection after the server ended a stream: the error when the session is gone, else undefined. */
async function sessionGone(options: SseOptions, signal: AbortSignal): Promise<unknown> {
  try {
    await options.connection.request('GET', '/connection', { route: CONNECTION_STATE_ROUTE, signal, timeoutMs: options.requestTimeoutMs });
    return undefined;
  } catch (err) {
    return endsSession(err) ? err : undefined; // anything else: the reopen finds out, with its own backoff
  }
}

export const CONNECTION_STATE_ROUTE = 'GET connection';

/** Feeds one open stream to the SSE parser until it ends, breaks, idles out or carries a too-large event. */
function consume(
  stream: OpenStream,
  options: SseOptions,
  subscriber: Subscriber<TransportItem>,
  signal: AbortSignal,
  callbacks: { onRetry(ms: number): void; onEvent(): void },
): Promise<StreamEnd> {
  return new Promise<StreamEnd>((resolve) => {
    let idle: NodeJS.Timeout | undefined;
    const decoder = new Utf8Decoder();
    let done = false;
    const finish = (end: StreamEnd) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      // A full replace whose users were being handed on is cut short: the writer removes nobody for it.
      reader.abandon(whyEnded(end, options));
      signal.removeEventListener('abort', onAbort);
      stream.removeListener('data', onData);
      stream.destroy();
      resolve(end);
    };
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish({ type: 'idle' }), options.sseIdleTimeoutMs);
    };
    // An event's data goes to the message reader as it arrives: memory and work per user, not per event.
    const reader = new SseReader(
      options.maxMessageBytes,
      {
        onMessage: (outcome) => {
          callbacks.onEvent();
          subscriber.next({ kind: 'parsed', outcome });
        },
        onRetry: (ms) => callbacks.onRetry(ms),
      },
      options.knownUserTexts,
    );
    let ranSince = performance.now();
    /** Paused until the writer takes users of the full replace being read (it is not idle meanwhile). */
    let waitingForWriter = false;
    const onData = (chunk: Buffer) => {
      if (done) return;
      armIdle();
      try {
        reader.feed(decoder.decode(chunk));
      } catch (error) {
        if (error instanceof MessageTooLargeError) finish({ type: 'too-large', what: error.what });
        else finish({ type: 'error', error });
        return;
      }
      const room = waitingForWriter ? undefined : reader.room();
      if (room) {
        waitingForWriter = true;
        clearTimeout(idle);
        stream.pause();
        void room.then(() => {
          waitingForWriter = false;
          if (done) return;
          armIdle();
          stream.resume();
        });
        return;
      }
      // A stream with much buffered data emits chunk after chunk without returning to the event loop: pause now and
      // then so that HTTP answers and the fan-out run while a big event is read.
      if (performance.now() - ranSince > YIELD_AFTER_MS) {
        stream.pause();
        setImmediate(() => {
          ranSince = performance.now();
          if (!done && !waitingForWriter) stream.resume();
        });
      }
    };
    const onAbort = () => finish({ type: 'ended' });
    stream.on('data', onData);
    stream.once('end', () => finish({ type: 'ended' }));
    // Kept after finish(): a destroyed request may still report an error, which must not go unheard.
    stream.on('error', (error: unknown) => finish({ type: 'error', error }));
    signal.addEventListener('abort', onAbort, { once: true });
    armIdle();
  });
}
