/**
 * ICWS sessions: credentials of each (session id, CSRF token, cookie), its subscriptions and its message queue.
 * Messages are queued as JSON text so that `injectRaw` can queue malformed text exactly as given (a full replace as
 * text made piece by piece: message-text.ts).
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log/logger.js';
import { parseCookies, SESSION_ID_NOT_FOUND, SESSION_ID_WRONG_FORM, SESSION_INVALID } from './http.js';
import type { MessageText } from './message-text.js';
import type { Subscription } from './subscriptions.js';

export interface QueuedMessage {
  text: string | MessageText;
  /** Injected as-is (maybe not JSON): a poll answer carries it alone, so it cannot spoil its neighbours. */
  raw: boolean;
}

export interface Session {
  readonly id: string;
  readonly csrfToken: string;
  readonly cookieName: string;
  readonly cookieValue: string;
  readonly userID: string;
  readonly readOnly: boolean;
  readonly subscriptions: Map<string, Subscription>;
  /** The user-statuses subscription's ids (one per session, replaced by each PUT); undefined = none. */
  userStatuses?: Set<string>;
  /** Subscribed to changes of the status catalogue. */
  statusMessages?: boolean;
  queue: QueuedMessage[];
  /** ms since the epoch of its last authenticated request: idle sessions are forgotten. */
  lastSeen: number;
  /** Set by connectionDown: the next messages request delivers the queue, then the session is forgotten. */
  down: boolean;
  /** An open SSE stream takes messages as they are queued; set by the messaging module. */
  sink?: { flush(): void; close(): void };
}

/** A refused session request: the 401 body's errorCode says why (docs/icws.md "Errors"). */
export type SessionCheck = { ok: true; session: Session } | { ok: false; message: string; errorCode: number };

/** Credentials remembered after their session is gone, so tests can check none leaked into a client's output. */
const MAX_ISSUED_CREDENTIALS = 10_000;
/** Ids of sessions that ended, remembered (bounded) so that their 401 says "invalid" (-2147221499), not "not found" (2). */
const MAX_ENDED_SESSIONS = 10_000;

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  /** Every CSRF token and cookie value handed out, oldest first (bounded). */
  readonly issued: string[] = [];
  private readonly ended = new Set<string>();

  constructor(
    private readonly maxQueuedMessages: number,
    private readonly log: Logger,
  ) {}

  /** `languageId`: the login's Accept-Language, which real servers put in the cookie's value after the GUID. */
  create(userID: string, readOnly: boolean, languageId: string): Session {
    let id: string;
    do
      id = String(randomInt(1_000_000_000, 9_999_999_999)); // ICWS session ids are long decimal numbers
    while (this.sessions.has(id));
    const session: Session = {
      id,
      csrfToken: randomBytes(24).toString('base64'),
      cookieName: `icws_${id}`,
      cookieValue: `${randomUUID()}|languageId=${languageId}`,
      userID,
      readOnly,
      subscriptions: new Map(),
      queue: [],
      down: false,
      lastSeen: Date.now(),
    };
    this.sessions.set(id, session);
    this.issued.push(session.csrfToken, session.cookieValue);
    if (this.issued.length > MAX_ISSUED_CREDENTIALS) this.issued.splice(0, this.issued.length - MAX_ISSUED_CREDENTIALS);
    return session;
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  all(): Session[] {
    return [...this.sessions.values()];
  }

  /**
   * A request under /icws/{sessionId}/ must carry that session's cookie and CSRF header. `allowDown`: the last poll of
   * a session that went down. `cookieOnly`: the message stream, which real servers accept with the cookie alone (the
   * vendor's browser clients open it with EventSource, which cannot send a header: docs/icws.md "Real sites"); a
   * CSRF header sent there must still match.
   */
  authenticate(sessionId: string, req: IncomingMessage, { allowDown = false, cookieOnly = false } = {}): SessionCheck {
    const invalid = (message: string): SessionCheck => ({ ok: false, message, errorCode: SESSION_INVALID });
    if (!/^\d+$/.test(sessionId)) return { ok: false, message: 'The session identifier is not in the expected format.', errorCode: SESSION_ID_WRONG_FORM };
    const session = this.sessions.get(sessionId);
    if (!session && !this.ended.has(sessionId)) return { ok: false, message: 'The session was not found.', errorCode: SESSION_ID_NOT_FOUND };
    if (!session || (session.down && !allowDown)) return invalid('The session identifier is invalid.');
    const cookie = parseCookies(req.headers.cookie).get(session.cookieName);
    if (cookie === undefined) return invalid(`The session cookie ${session.cookieName} is missing.`);
    if (cookie !== session.cookieValue) return invalid('The session cookie is invalid.');
    const csrf = req.headers['inin-icws-csrf-token'];
    if (csrf === undefined && !cookieOnly) return invalid('The ININ-ICWS-CSRF-Token header is missing.');
    if (csrf !== undefined && csrf !== session.csrfToken) return invalid('The ININ-ICWS-CSRF-Token header does not match the session.');
    session.lastSeen = Date.now();
    return { ok: true, session };
  }

  /**
   * Queue one message. Past maxQueuedMessages (a client that stopped reading) the session is dropped: its next
   * request gets 401 and the client starts over with a full replace, rather than silently missing messages.
   */
  enqueue(session: Session, text: string | MessageText, raw = false): void {
    if (!this.sessions.has(session.id)) return;
    session.queue.push({ text, raw });
    if (session.queue.length > this.maxQueuedMessages) {
      this.log.warn('message queue over its bound: session dropped', { sessionId: session.id, maxQueuedMessages: this.maxQueuedMessages });
      this.forget(session.id);
      return;
    }
    session.sink?.flush();
  }

  /** Take what a poll answers: everything up to the first raw message, or that raw message alone. */
  take(session: Session): QueuedMessage[] {
    const q = session.queue;
    if (q.length === 0) return [];
    let n = 0;
    if (q[0]!.raw) n = 1;
    else while (n < q.length && !q[n]!.raw) n++;
    return q.splice(0, n);
  }

  forget(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.ended.add(id);
    if (this.ended.size > MAX_ENDED_SESSIONS) this.ended.delete(this.ended.values().next().value!);
    session.queue = [];
    session.sink?.close();
  }

  /** Forget sessions without an open stream and without a request for `idleMs` (a client that went away). */
  sweepIdle(idleMs: number, now = Date.now()): void {
    for (const s of this.all()) {
      if (!s.sink && now - s.lastSeen > idleMs) {
        this.log.info('idle session forgotten', { sessionId: s.id });
        this.forget(s.id);
      }
    }
  }

  forgetAll(): void {
    for (const id of [...this.sessions.keys()]) this.forget(id);
  }
}
