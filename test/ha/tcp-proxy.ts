/**
 * A TCP proxy in front of Redis for one process: `cut()` makes the network between them go silent (the sockets stay
 * open, nothing passes either way: a partition, not a reset, so only timeouts can tell), `heal()` ends the silent
 * connections, as a TCP timeout eventually would, and lets new ones through again. `hold()` delays instead: what the
 * client sends is kept, in order, until `release()` delivers it (writes that were on the wire arrive late). Replies
 * still flow, so a client waiting on one before it sends the next write (the writer keeps one apply in flight) does
 * send it.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private silent = false;
  private held: Array<() => void> | undefined;
  /** What the client sent while held, as text (RESP is text with binary-safe lengths: key names show as they are). */
  private heldFromClient = '';
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client: Socket) => proxy.accept(client, connect(targetPort, targetHost)));
    return proxy;
  }

  private accept(client: Socket, upstream: Socket): void {
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (d: Buffer) => {
        if (this.silent) return;
        if (!this.held || from !== client) return void to.write(d);
        this.held.push(() => to.write(d));
        this.heldFromClient += d.toString('latin1');
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  hold(): void {
    this.held ??= [];
  }

  /** True once something the client sent while held contains `text`. */
  holds(text: string): boolean {
    return this.heldFromClient.includes(text);
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.heldFromClient = '';
    for (const deliver of held) deliver();
  }

  cut(): void {
    this.silent = true;
  }

  heal(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    this.silent = false;
  }

  async close(): Promise<void> {
    this.heal();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
