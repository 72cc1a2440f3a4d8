/**
 * The frames of the WebSocket protocol (README, "The WebSocket protocol"), one definition for both ends: the server
 * builds its frames from these types (src/fanout/frames.ts), the client (src/client) and `icwatch tail` read them.
 * ES only, no Node or DOM types: the client library compiles it for browsers too (src/client/tsconfig.json).
 */

/** A user's properties, decoded from JSON; a property that is not set is absent (`null` in a change: cleared). */
export type UserProps = Record<string, unknown>;

/** A user as the server sends it in a snapshot: its id and its properties. */
export type UserRecord = { id: string } & UserProps;

/** Why a connected client must drop its state: the mirror restarted from nothing, or the stream no longer holds what follows. */
export type ResetReason = 'epoch' | 'trimmed';

/** First frame of every connection. `worker`: the serving worker's id, when the server runs several (websocket.workers). */
export interface HelloFrame {
  type: 'hello';
  epoch: string | null;
  seq: number;
  version: string;
  worker?: string;
}

/** The client can no longer follow with changes: drop the local state, a fresh snapshot follows. */
export interface ResetFrame {
  type: 'reset';
  reason: ResetReason;
  epoch: string | null;
  seq: number;
}

/** One chunk of a snapshot as of `seq`; the last chunk has `last: true`. */
export interface SnapshotFrame {
  type: 'snapshot';
  seq: number;
  users: UserRecord[];
  last: boolean;
}

/** The properties of `id` that changed at `seq` (`null`: cleared); merged into what the client holds. */
export interface UpsertFrame {
  type: 'upsert';
  seq: number;
  id: string;
  data: UserProps;
}

/**
 * The status properties of `id` that changed at `seq` (presence; `null`: cleared), with `available` whenever it
 * changed; merged into the user's `status`. A status left with no `statusId` is gone.
 */
export interface StatusFrame {
  type: 'status';
  seq: number;
  id: string;
  data: UserProps;
}

export interface RemoveFrame {
  type: 'remove';
  seq: number;
  id: string;
}

/** The answer to a `ping` client frame. */
export interface PongFrame {
  type: 'pong';
}

/** A client frame the server did not understand, and why. */
export interface ErrorFrame {
  type: 'error';
  error: string;
}

/** Every frame the server sends. */
export type ServerFrame = HelloFrame | ResetFrame | SnapshotFrame | UpsertFrame | StatusFrame | RemoveFrame | PongFrame | ErrorFrame;

/** For clients that cannot see WebSocket pings: answered with a `pong` frame. */
export interface PingFrame {
  type: 'ping';
}

/** Every frame a client may send (none is needed). */
export type ClientFrame = PingFrame;

/** The JSON text of a server frame: a frame whose shape drifts from ServerFrame does not compile. */
export function serverFrameText(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

/** The JSON text of a client frame. */
export function clientFrameText(frame: ClientFrame): string {
  return JSON.stringify(frame);
}

/** Whether a parsed client message is a frame the server understands. */
export function isClientFrame(message: unknown): message is ClientFrame {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ping';
}

/** Parses one server text frame; throws with the frame's start when it is not a JSON object with a type. */
export function parseServerFrame(text: string): ServerFrame {
  const f = JSON.parse(text) as ServerFrame;
  if (!f || typeof f !== 'object' || typeof (f as { type?: unknown }).type !== 'string') throw new Error(`a frame without a type: ${text.slice(0, 100)}`);
  return f;
}
