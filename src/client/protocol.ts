/**
 * The wire format of icwatch's consumer endpoints, as a client sees it: WebSocket frames from the server and the
 * body of the HTTP snapshot. Documented in the README ("The WebSocket protocol", "HTTP reads").
 */

/** A user's properties, decoded from JSON; a property that is not set is absent. */
export type UserProps = Record<string, unknown>;

/** A user as the server sends it in a snapshot: its id and its properties. */
export type UserRecord = { id: string } & UserProps;

export type ServerFrame =
  | { type: 'hello'; epoch: string | null; seq: number; version: string }
  | { type: 'reset'; reason: 'epoch' | 'trimmed'; epoch: string | null; seq: number }
  | { type: 'snapshot'; seq: number; users: UserRecord[]; last: boolean }
  | { type: 'upsert'; seq: number; id: string; data: UserProps }
  | { type: 'remove'; seq: number; id: string }
  | { type: 'pong' }
  | { type: 'error'; error: string };

export type HelloFrame = Extract<ServerFrame, { type: 'hello' }>;
export type ResetFrame = Extract<ServerFrame, { type: 'reset' }>;

/** One change applied to the local map: `data` holds the new values, `null` for a property that was cleared. */
export type Change = { op: 'upsert'; seq: number; id: string; data: UserProps } | { op: 'remove'; seq: number; id: string };

/** The body of `GET /v1/users`: the mirror (or the filtered part of it) as of `seq`. */
export interface UsersSnapshot {
  epoch: string | null;
  seq: number;
  users: UserRecord[];
}

/** Parses one text frame; throws with the frame's start when it is not a JSON object with a type. */
export function parseFrame(text: string): ServerFrame {
  const f = JSON.parse(text) as ServerFrame;
  if (!f || typeof f !== 'object' || typeof (f as { type?: unknown }).type !== 'string') throw new Error(`a frame without a type: ${text.slice(0, 100)}`);
  return f;
}
