/**
 * Server → client frames of the protocol (src/protocol/frames.ts; README, "The WebSocket protocol"; docs/fanout.md),
 * serialized once and framed once. A server frame is never masked, so the same bytes go to every client that
 * receives it: the fan-out writes these buffers straight to the sockets instead of calling ws.send per client.
 */
import type { ChangeEntry } from '../mirror/change.js';
import { STATUS } from '../mirror/status-reads.js';
import { serverFrameText, type ServerFrame, type UserProps } from '../protocol/frames.js';

/** One unmasked, final WebSocket text frame (RFC 6455 §5.2) carrying `json`. */
export function textFrame(json: string): Buffer {
  const payload = Buffer.from(json, 'utf8');
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + n);
  frame[0] = 0x81; // FIN + text
  if (n < 126) {
    frame[1] = n;
  } else if (n < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** A server frame of the protocol, framed: serialized once, whatever the number of clients it goes to. */
export const frameOf = (frame: ServerFrame): Buffer => textFrame(serverFrameText(frame));

/** Which properties a client receives: null = all of them. */
export type PropsFilter = ReadonlySet<string> | null;

/** A stable key for a props filter, so clients with the same filter share frames. */
export function propsKey(props: PropsFilter): string {
  return props ? [...props].sort().join(',') : '';
}

/** Only the properties in `props` (all when null). */
export function pickProps(data: UserProps, props: PropsFilter): UserProps {
  if (!props) return data;
  const out: UserProps = {};
  for (const p of props) if (Object.prototype.hasOwnProperty.call(data, p)) out[p] = data[p];
  return out;
}

/**
 * The frame of one change as a client with `props` sees it; null when nothing of it is left for that client. A
 * status change (presence) is the `status` property's: whole for a client that receives `status`, nothing otherwise.
 */
export function changeFrame(entry: ChangeEntry, props: PropsFilter): Buffer | null {
  if (entry.op === 'remove') return frameOf({ type: 'remove', seq: entry.seq, id: entry.id });
  if (entry.op === 'status') return props && !props.has(STATUS) ? null : frameOf({ type: 'status', seq: entry.seq, id: entry.id, data: entry.data });
  const data = pickProps(entry.data, props);
  if (props && Object.keys(data).length === 0) return null;
  return frameOf({ type: 'upsert', seq: entry.seq, id: entry.id, data });
}

/**
 * One page of changes as every client sees it: each (entry, props filter) is framed at most once, and the whole
 * page for one props filter is concatenated at most once, so clients without an ids filter share one buffer.
 */
export class ChangePage {
  private readonly frames = new Map<string, (Buffer | null)[]>();
  private readonly joined = new Map<string, { buffer: Buffer; count: number }>();
  /** The last shared lookup: a round asks for the same (props filter, starting seq) client after client. */
  private last: { props: PropsFilter; afterSeq: number; bytes: { buffer: Buffer; count: number } } | undefined;

  constructor(readonly entries: readonly ChangeEntry[]) {}

  get fromSeq(): number {
    return this.entries[0]!.seq;
  }
  get toSeq(): number {
    return this.entries[this.entries.length - 1]!.seq;
  }

  framesFor(props: PropsFilter): (Buffer | null)[] {
    const key = propsKey(props);
    let frames = this.frames.get(key);
    if (!frames) {
      frames = this.entries.map((e) => changeFrame(e, props));
      this.frames.set(key, frames);
    }
    return frames;
  }

  /**
   * The bytes a client with these filters receives for the entries with seq > afterSeq, as one buffer, and how many
   * frames it holds (0 = nothing to send).
   */
  bytesFor(props: PropsFilter, ids: ReadonlySet<string> | null, afterSeq: number): { buffer: Buffer; count: number } {
    const last = this.last;
    if (!ids && last && last.props === props && last.afterSeq === afterSeq) return last.bytes;
    const frames = this.framesFor(props);
    // Without an ids filter, clients share the buffer of their props filter and starting point: the whole page, or
    // (after a round that some of them received in part: src/fanout/dispatch.ts) the rest of it.
    const key = ids ? undefined : `${propsKey(props)}@${Math.max(afterSeq, this.fromSeq - 1)}`;
    let bytes = key === undefined ? undefined : this.joined.get(key);
    if (!bytes) {
      const picked: Buffer[] = [];
      for (let i = 0; i < this.entries.length; i++) {
        const e = this.entries[i]!;
        const f = frames[i];
        if (f && e.seq > afterSeq && (!ids || ids.has(e.id))) picked.push(f);
      }
      bytes = { buffer: picked.length === 1 ? picked[0]! : Buffer.concat(picked), count: picked.length };
      if (key !== undefined) this.joined.set(key, bytes);
    }
    if (key !== undefined) this.last = { props, afterSeq, bytes };
    return bytes;
  }
}
