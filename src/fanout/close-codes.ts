/**
 * How the server closes a connection: the rows of the protocol's close table (src/protocol/close-codes.ts: code,
 * reason text, reconnect advice), each with the `reason` label of icwatch_ws_disconnects_total it is counted under,
 * which is the server's concern alone. The server closes with these names only (docs/fanout.md, "Close codes").
 */
import { CLOSE as PROTOCOL_CLOSE, type CloseCode, type CloseName } from '../protocol/close-codes.js';

/** The `reason` label of icwatch_ws_disconnects_total a close is counted under. */
export type DisconnectReason = 'client' | 'slow-consumer' | 'keepalive' | 'abuse' | 'shutdown' | 'error';

/** A row of the protocol's table as the server closes with it. */
export interface ServerClose extends CloseCode {
  /** Counted under this disconnect reason (for `abnormal`: when the server cut it for a missed pong). */
  readonly counted: DisconnectReason;
}

/** Every row of the protocol's table, with how it is counted: a row added there without a count does not compile. */
export const CLOSE = {
  goingAway: { ...PROTOCOL_CLOSE.goingAway, counted: 'shutdown' },
  policyViolation: { ...PROTOCOL_CLOSE.policyViolation, counted: 'abuse' },
  messageTooBig: { ...PROTOCOL_CLOSE.messageTooBig, counted: 'abuse' },
  serverError: { ...PROTOCOL_CLOSE.serverError, counted: 'error' },
  slowConsumer: { ...PROTOCOL_CLOSE.slowConsumer, counted: 'slow-consumer' },
  abnormal: { ...PROTOCOL_CLOSE.abnormal, counted: 'keepalive' },
} as const satisfies Record<CloseName, ServerClose>;
