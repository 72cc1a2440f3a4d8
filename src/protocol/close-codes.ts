/**
 * Every way a connection to the fan-out ends, with what the client should do then: reconnect and resume at once,
 * resume after a backoff, or not reconnect. The server closes with these rows only (src/fanout/close-codes.ts adds
 * how it counts each one); the client library and `icwatch tail` act on their advice. Shown in the README
 * ("Close codes") and docs/fanout.md ("Close codes"); codes below 4000 are RFC 6455 §7.4.1's.
 */

/** What a client should do after a close with this code. */
export type ReconnectAdvice =
  /** Reconnect at once with since/epoch: nothing is lost, the stream still holds what follows. */
  | 'resume'
  /** Reconnect with since/epoch after a backoff with jitter: the server (or this replica) needs a moment. */
  | 'resume-after-backoff'
  /** Do not reconnect with the same client: it broke the protocol and would be closed again. */
  | 'never';

export interface CloseCode {
  readonly code: number;
  /** The close frame's reason text (at most 123 bytes, RFC 6455 §5.5). */
  readonly reason: string;
  /** Why the server closes with it. */
  readonly when: string;
  readonly reconnect: ReconnectAdvice;
  /** False for a code the client sees but no server sends (the connection ended without a close frame). */
  readonly sentByServer: boolean;
}

export const CLOSE = {
  /** Shutdown: the daemon stops (SIGTERM) or the fan-out is closed. */
  goingAway: {
    code: 1001,
    reason: 'going away',
    when: 'the server is shutting down',
    reconnect: 'resume-after-backoff',
    sentByServer: true,
  },
  /** More bad client frames than websocket.maxClientErrors. */
  policyViolation: {
    code: 1008,
    reason: 'too many bad frames',
    when: 'the client sent more frames the server does not understand than websocket.maxClientErrors',
    reconnect: 'never',
    sentByServer: true,
  },
  /** A client frame over 16 × websocket.maxClientFrameBytes: ws closes before reading it, with no reason text. */
  messageTooBig: {
    code: 1009,
    reason: '',
    when: 'the client sent a frame over 16 × websocket.maxClientFrameBytes',
    reconnect: 'never',
    sentByServer: true,
  },
  /** The server could not serve this client (Redis failed while it was being synced). */
  serverError: {
    code: 1011,
    reason: 'server error',
    when: 'the server failed while serving this client',
    reconnect: 'resume-after-backoff',
    sentByServer: true,
  },
  /** Unsent data passed websocket.maxBufferedBytes. */
  slowConsumer: {
    code: 4008,
    reason: 'slow consumer',
    when: 'the unsent data for this client passed websocket.maxBufferedBytes',
    reconnect: 'resume',
    sentByServer: true,
  },
  /**
   * No close frame: the server cut the connection (a missed pong, or a slow consumer whose close frame could not
   * be flushed within the grace period) or the network did.
   */
  abnormal: {
    code: 1006,
    reason: '',
    when: 'the connection ended without a close frame (missed pong, network)',
    reconnect: 'resume-after-backoff',
    sentByServer: false,
  },
} as const satisfies Record<string, CloseCode>;

export type CloseName = keyof typeof CLOSE;

const BY_CODE = new Map<number, CloseCode>(Object.values(CLOSE).map((c) => [c.code, c]));

/**
 * The table's row for `code`; a code it does not list (another server, a proxy) is treated as a drop: resume
 * after a backoff, which is always safe because a resume either continues exactly or gets a reset.
 */
export function closeCode(code: number): CloseCode {
  return BY_CODE.get(code) ?? { ...CLOSE.abnormal, code, when: 'a close code icwatch does not send' };
}
