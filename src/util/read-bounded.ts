/**
 * Reads a whole HTTP body with a size bound: the ICWS client's answers (icws.maxMessageBytes) and the simulator's
 * request bodies share it. Past the bound the read fails with the caller's error; the caller says whether the
 * stream is destroyed (a client gives up on the answer) or drained (a server still answers, e.g. 413).
 */
import type { Readable } from 'node:stream';

export interface BoundedReadOptions {
  /** Largest body accepted, in bytes. */
  limit: number;
  /** The error for a body over `limit`. */
  tooLarge: () => Error;
  /** 'destroy' the stream past the bound (default), or 'drain' it so that the peer can still be answered. */
  onOverflow?: 'destroy' | 'drain';
  /** The error for a stream closed before its end (default: a plain Error saying so). */
  closedEarly?: () => Error;
}

export function readBoundedBody(stream: Readable | (NodeJS.ReadableStream & { destroy(err?: Error): void }), options: BoundedReadOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size <= options.limit) {
        chunks.push(chunk);
        return;
      }
      const err = options.tooLarge();
      fail(err);
      chunks.length = 0;
      if (options.onOverflow === 'drain') {
        stream.removeListener('data', onData);
        stream.resume();
      } else stream.destroy(err);
    };
    stream.on('data', onData);
    stream.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks));
    });
    stream.once('error', (err: Error) => fail(err));
    // A peer that goes away mid-body must not leave the promise pending forever.
    stream.once('close', () => fail(options.closedEarly?.() ?? new Error('the stream closed before the end of the body')));
  });
}
