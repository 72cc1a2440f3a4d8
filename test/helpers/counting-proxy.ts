/**
 * A TCP proxy that counts what passes and remembers how each connection began: in front of a Redis port, it shows
 * whether a client reached it at all, and whether it spoke TLS (a TLS connection's first byte is 0x16, a handshake
 * record: RFC 8446 §5.1) or RESP in clear (`*`, or an inline command).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class CountingProxy {
  connections = 0;
  /** Bytes from clients. */
  bytes = 0;
  /** The first byte of each connection that sent one. */
  readonly firstBytes: number[] = [];
  /** Everything clients sent, as latin1 text (to check that no secret crossed it in clear). */
  private sent = '';
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<CountingProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new CountingProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => proxy.accept(client, connect(targetPort, '127.0.0.1')));
    return proxy;
  }

  /** Every connection that sent something began with a TLS handshake record. */
  get allTls(): boolean {
    return this.firstBytes.every((b) => b === 0x16);
  }

  /** True when `text` crossed this proxy in clear. */
  carried(text: string): boolean {
    return this.sent.includes(text);
  }

  private accept(client: Socket, upstream: Socket): void {
    this.connections++;
    this.sockets.add(client).add(upstream);
    let first = true;
    client.on('data', (d: Buffer) => {
      if (first) this.firstBytes.push(d[0]!);
      first = false;
      this.bytes += d.length;
      if (this.sent.length < 1 << 20) this.sent += d.toString('latin1');
    });
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream]) {
      s.on('error', () => {});
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
