/**
 * WebSocket pings every websocket.pingIntervalMs; a client that has not answered the previous one by the next is
 * cut off (no close frame: it is not listening). Clients that cannot see WebSocket pings use the `ping` client
 * frame instead (client-frames.ts).
 */
import type { ClientSession } from './session.js';

export class Keepalive {
  private readonly unanswered = new WeakSet<ClientSession>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly clients: () => Iterable<ClientSession>,
  ) {}

  watch(c: ClientSession): void {
    c.ws.on('pong', () => this.unanswered.delete(c));
  }

  start(): void {
    this.timer = setInterval(() => this.round(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private round(): void {
    for (const c of this.clients()) {
      if (c.isClosing) continue;
      if (this.unanswered.has(c)) {
        c.terminate('keepalive');
        continue;
      }
      this.unanswered.add(c);
      c.ws.ping();
    }
  }
}
