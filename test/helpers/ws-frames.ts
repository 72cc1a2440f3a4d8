/** What a ws client reads from these bytes: ws's own frame parser (exported at run time, not in its type definitions). */
import type { EventEmitter } from 'node:events';
import * as ws from 'ws';

export function readFrames(bytes: Buffer): string[] {
  const out: string[] = [];
  const Receiver = (ws as unknown as { Receiver: new (o: object) => EventEmitter & { write(b: Buffer): void } }).Receiver;
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  receiver.on('message', (data: Buffer) => out.push(data.toString('utf8')));
  receiver.write(bytes);
  return out;
}
