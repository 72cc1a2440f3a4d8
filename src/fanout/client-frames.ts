/**
 * What a client may send (README, "The WebSocket protocol"; ClientFrame in src/protocol/frames.ts): nothing is
 * needed; `{"type":"ping"}` is answered `{"type":"pong"}`; anything else gets `{"type":"error","error":"…"}` naming
 * what was wrong, and a client that sends more than websocket.maxClientErrors of those is closed with
 * CLOSE.policyViolation (1008).
 */
import { isClientFrame } from '../protocol/frames.js';
import { CLOSE } from './close-codes.js';
import { frameOf } from './frames.js';
import type { ClientSession } from './session.js';

export interface ClientFrameLimits {
  /** Larger text frames get an error frame (ws itself closes with 1009 past hardFrameLimitFactor times this). */
  maxClientFrameBytes: number;
  /** Bad frames tolerated before closing the connection. */
  maxClientErrors: number;
  /** Grace for the close frame to go out. */
  closeGraceMs: number;
}

/** What is wrong with one client frame; null for the ping frame. */
export function clientFrameError(data: Buffer, isBinary: boolean, maxBytes: number): string | null {
  if (isBinary) return 'binary frames are not understood';
  if (data.length > maxBytes) return `frame of ${data.length} bytes is larger than ${maxBytes}`;
  let msg: unknown;
  try {
    msg = JSON.parse(data.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (isClientFrame(msg)) return null;
  return 'unknown frame: the only client frame is {"type":"ping"}';
}

/** The answer to every ping, framed once. */
const PONG = frameOf({ type: 'pong' });

/**
 * Answers the frames `c` sends. `onUnsendable` is called when an answer would pass the client's bound: a client
 * that sends without reading must not grow the server's buffers either.
 */
export function answerClientFrames(c: ClientSession, limits: ClientFrameLimits, onUnsendable: (c: ClientSession) => void): void {
  let badFrames = 0;
  c.ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (c.isClosing) return;
    const error = clientFrameError(data, isBinary, limits.maxClientFrameBytes);
    if (error !== null && ++badFrames > limits.maxClientErrors) return c.close(CLOSE.policyViolation, limits.closeGraceMs);
    if (!c.outbox.writeControl(error === null ? PONG : frameOf({ type: 'error', error }))) onUnsendable(c);
  });
}
