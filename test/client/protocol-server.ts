/**
 * A stand-in icwatch for client tests: a real HTTP server and `ws` WebSocketServer speaking the protocol of README
 * "The WebSocket protocol" and docs/presence.md from a state the test drives: hello, a snapshot (users with their
 * `status`), upsert / status / remove frames with one gap-free seq, resumes with since/epoch from its log, and
 * `reset` + a fresh snapshot on a new epoch. `GET /v1/users` answers the same state (the client's HTTP start). It
 * keeps its own copy of each user, merged by the contract's rules (not by the client's code), for the tests to
 * compare the client's map with. Other paths answer what a test routes to them (`route`), else 404. A browser's
 * subprotocols (`icwatch.v1` with the token's) are answered with `icwatch.v1`, as icwatch does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { serverFrameText, type ServerFrame, type UserProps, type UserRecord } from '../../src/protocol/frames.js';

type ChangeFrame = Extract<ServerFrame, { type: 'upsert' | 'status' | 'remove' }>;
export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export class ProtocolServer {
  epoch = 'e1';
  seq = 0;
  /** The server's state: id → properties, `status` included. */
  readonly users = new Map<string, UserProps>();
  /** Every WebSocket upgrade's URL, in order. */
  readonly upgrades: URL[] = [];
  /** Users per snapshot frame (several frames for one snapshot when there are more). */
  chunk = 2;
  private log: ChangeFrame[] = [];
  private readonly routes = new Map<string, Handler>();
  private readonly live = new Set<WebSocket>();
  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
  ) {}

  static async start(users: UserRecord[] = []): Promise<ProtocolServer> {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, path: '/v1/users', handleProtocols: (protocols) => (protocols.has('icwatch.v1') ? 'icwatch.v1' : false) });
    const s = new ProtocolServer(http, wss);
    for (const { id, ...props } of users) s.users.set(id, props);
    http.on('request', (req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method === 'GET' && path === '/v1/users') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ epoch: s.epoch, seq: s.seq, users: s.records() }));
      } else if (s.routes.has(path)) s.routes.get(path)!(req, res);
      else res.writeHead(404).end();
    });
    wss.on('connection', (socket, req) => s.connected(socket, new URL(req.url ?? '/', 'ws://x')));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return s;
  }

  /** Answers `path` (any method) with `handler`. */
  route(path: string, handler: Handler): this {
    this.routes.set(path, handler);
    return this;
  }

  get base(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  get wsUrl(): string {
    return `${this.base.replace('http:', 'ws:')}/v1/users`;
  }

  get clientCount(): number {
    return this.live.size;
  }

  /** The server's users as a snapshot lists them, sorted by id. */
  records(): UserRecord[] {
    return [...this.users].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, props]) => ({ id, ...structuredClone(props) }));
  }

  upsert(id: string, data: UserProps): void {
    const user = { ...this.users.get(id) };
    for (const [k, v] of Object.entries(data))
      if (v === null) delete user[k];
      else user[k] = v;
    this.users.set(id, user);
    this.publish({ type: 'upsert', seq: ++this.seq, id, data });
  }

  /** A status frame: `data` merged into the user's status; a status left without statusId is gone. */
  status(id: string, data: UserProps): void {
    const user = { ...this.users.get(id) };
    const status: UserProps = { ...(user.status as UserProps | undefined) };
    for (const [k, v] of Object.entries(data))
      if (v === null) delete status[k];
      else status[k] = v;
    if (status.statusId === undefined) delete user.status;
    else user.status = status;
    this.users.set(id, user);
    this.publish({ type: 'status', seq: ++this.seq, id, data });
  }

  remove(id: string): void {
    this.users.delete(id);
    this.publish({ type: 'remove', seq: ++this.seq, id });
  }

  /** The mirror restarted from nothing with these users: connected clients get a reset and a fresh snapshot. */
  newEpoch(epoch: string, users: UserRecord[], seq = 1): void {
    this.epoch = epoch;
    this.seq = seq;
    this.log = [];
    this.users.clear();
    for (const { id, ...props } of users) this.users.set(id, props);
    for (const socket of this.live) {
      this.send(socket, { type: 'reset', reason: 'epoch', epoch, seq });
      this.snapshot(socket);
    }
  }

  /** Cuts every connection as a network failure would. */
  dropAll(): void {
    for (const socket of this.live) socket.terminate();
    this.live.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private connected(socket: WebSocket, url: URL): void {
    this.upgrades.push(url);
    this.live.add(socket);
    socket.on('close', () => this.live.delete(socket));
    socket.on('message', (text: Buffer) => {
      if ((JSON.parse(text.toString()) as { type?: unknown }).type === 'ping') this.send(socket, { type: 'pong' });
    });
    this.send(socket, { type: 'hello', epoch: this.epoch, seq: this.seq, version: 'test' });
    const since = url.searchParams.get('since');
    if (since === null) return this.snapshot(socket);
    const from = Number(since);
    const epoch = url.searchParams.get('epoch');
    const held = from === this.seq || this.log.some((f) => f.seq === from + 1);
    if ((epoch !== null && epoch !== this.epoch) || from > this.seq) {
      this.send(socket, { type: 'reset', reason: 'epoch', epoch: this.epoch, seq: this.seq });
      return this.snapshot(socket);
    }
    if (!held) {
      this.send(socket, { type: 'reset', reason: 'trimmed', epoch: this.epoch, seq: this.seq });
      return this.snapshot(socket);
    }
    for (const f of this.log) if (f.seq > from) this.send(socket, f);
  }

  private snapshot(socket: WebSocket): void {
    const users = this.records();
    if (!users.length) return this.send(socket, { type: 'snapshot', seq: this.seq, users: [], last: true });
    for (let i = 0; i < users.length; i += this.chunk) {
      this.send(socket, { type: 'snapshot', seq: this.seq, users: users.slice(i, i + this.chunk), last: i + this.chunk >= users.length });
    }
  }

  private publish(frame: ChangeFrame): void {
    this.log.push(frame);
    for (const socket of this.live) this.send(socket, frame);
  }

  private send(socket: WebSocket, frame: ServerFrame): void {
    if (socket.readyState === socket.OPEN) socket.send(serverFrameText(frame));
  }
}
