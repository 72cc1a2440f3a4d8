/**
 * GET /icws/{sessionId}/messaging/messages: short polling (a JSON array of everything queued, removed from the
 * queue) or, with `Accept: text/event-stream` where messaging ≥ 2, a server-sent-event stream: a `retry:` line,
 * then one message per `data:` line as it is queued, and `:` comment pings.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ICWS_CONTENT_TYPE } from './http.js';
import { wholeText, type MessageText } from './message-text.js';
import type { Session, SessionStore } from './sessions.js';

export interface MessagingOptions {
  messagingVersion: number;
  ssePingMs: number;
  /** The `retry:` a stream announces (ms). */
  sseRetryMs: number;
}

/** A message as SSE data lines, in pieces (a full replace is made as it is sent: message-text.ts). */
function* sseEvent(text: string | MessageText): Generator<string> {
  if (typeof text !== 'string') {
    // JSON.stringify writes no line breaks: the whole message is one data: line, however big.
    yield 'data: ';
    yield* text.pieces();
    yield '\n\n';
    return;
  }
  if (!text.includes('\n') && !text.includes('\r')) {
    yield `data: ${text}\n\n`;
    return;
  }
  // A message with line breaks (only injected raw text has them) spans several data: lines, which SSE joins with \n.
  yield (
    text
      .split(/\r?\n/)
      .map((line) => `data: ${line}\n`)
      .join('') + '\n'
  );
}

export function wantsStream(req: IncomingMessage, opts: Pick<MessagingOptions, 'messagingVersion'>): boolean {
  return opts.messagingVersion >= 2 && (req.headers.accept ?? '').includes('text/event-stream');
}

export function answerPoll(res: ServerResponse, session: Session, store: SessionStore): number {
  // A session that went down gets its last messages (the connectionStateChangeMessage), then it is gone.
  const taken = session.down ? session.queue.splice(0) : store.take(session);
  if (session.down) store.forget(session.id);
  const text = `[${taken.map((m) => wholeText(m.text)).join(',')}]`;
  res.writeHead(200, { 'Content-Type': ICWS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache' });
  res.end(text);
  return taken.length;
}

/** One stream per session: a new one replaces the old. Writes stop while the socket is full (the queue holds the rest). */
export function openStream(res: ServerResponse, session: Session, store: SessionStore, opts: MessagingOptions): void {
  session.sink?.close();
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.write(`retry: ${opts.sseRetryMs}\n\n`);
  let closed = false;
  let waitingForDrain = false;

  // The message being written, piece by piece; a full socket pauses it until 'drain'.
  let writing: Iterator<string> | undefined;
  const flush = () => {
    if (closed || waitingForDrain) return;
    for (;;) {
      if (!writing) {
        const m = session.queue.shift();
        if (!m) break;
        writing = sseEvent(m.text);
      }
      const piece = writing.next();
      if (piece.done) {
        writing = undefined;
        continue;
      }
      if (!res.write(piece.value)) {
        waitingForDrain = true;
        res.once('drain', () => {
          waitingForDrain = false;
          flush();
        });
        return;
      }
    }
    if (session.down) store.forget(session.id);
  };
  const stop = () => {
    closed = true;
    clearInterval(ping);
    if (session.sink === sink) session.sink = undefined;
  };
  const sink = {
    flush,
    close: () => {
      if (closed) return;
      stop();
      res.end();
    },
  };
  const ping = setInterval(() => {
    // Never inside a message still being written (a big full replace spans many writes).
    // `:ping`, as real servers write it (go-icws eventsource.go parses exactly that: docs/icws.md "Real sites").
    if (!closed && !writing) res.write(':ping\n\n');
  }, opts.ssePingMs);
  ping.unref();
  res.on('close', stop);
  session.sink = sink;
  flush();
}
