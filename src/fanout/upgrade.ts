/**
 * Admission: which upgrade requests become WebSocket clients (README, "The WebSocket protocol"). Another path is
 * refused with 404, a server shutting down or at websocket.maxClients with 503, a bad token with 401, a foreign
 * Origin or Host or a props= outside the token's scope with 403 (access.ts) and a bad query (or a `props` naming a
 * property the mirror does not hold) with 400, each with a JSON body naming the problem, before any WebSocket exists.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../log/logger.js';
import type { MirroredProps } from './mirrored-props.js';
import { AccessDoor, selectProtocol, type SitePolicy, type TokenSpec } from './access.js';
import { isRefusal, parseClientRequest, refuseUpgrade, type ClientRequest, type RequestLimits } from './request.js';

export interface UpgradeOptions {
  path: string;
  tokens: readonly TokenSpec[];
  /** Origin and Host checks (access.ts). */
  site?: Partial<SitePolicy>;
  maxClients: number;
  /** ws closes with 1009 on a frame larger than this, before reading it. */
  maxPayloadBytes: number;
  limits: RequestLimits;
  /** The names a `props` filter may use. */
  mirrored: MirroredProps;
  logger: Logger;
  /** Connected clients right now. */
  clientCount: () => number;
  onClient: (ws: WebSocket, socket: Duplex, request: ClientRequest) => void;
}

export class UpgradeGate {
  private readonly door: AccessDoor;
  private readonly wss: WebSocketServer;
  private closed = false;

  constructor(private readonly options: UpgradeOptions) {
    this.door = new AccessDoor(options.tokens, options.site);
    // The token's subprotocol is read by the door and never echoed: the server selects icwatch.v1 (or none).
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.maxPayloadBytes,
      handleProtocols: (offered) => selectProtocol(offered),
    });
  }

  /** Handles the `upgrade` events of `server`. */
  attach(server: http.Server): void {
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  /** Refuses new clients from now on (503). */
  close(): void {
    this.closed = true;
    this.wss.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {}); // a reset during the handshake is the client's business
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== this.options.path)
      return refuseUpgrade(socket, { status: 404, error: `no WebSocket endpoint at ${path.slice(0, 100)}`, expected: this.options.path });
    if (this.closed) return refuseUpgrade(socket, { status: 503, error: 'shutting down' });
    if (this.options.clientCount() >= this.options.maxClients)
      return refuseUpgrade(socket, { status: 503, error: 'too many clients', expected: `at most ${this.options.maxClients}` });
    const parsed = parseClientRequest(req, this.door, this.options.limits, this.options.mirrored);
    if (isRefusal(parsed)) {
      this.options.logger.info('refused a WebSocket client', { status: parsed.status, error: parsed.error, remote: req.socket.remoteAddress });
      return refuseUpgrade(socket, parsed);
    }
    // Without verifyClient, ws completes the handshake synchronously (or refuses it and never calls back), so the
    // client is counted before the next request is admitted.
    this.wss.handleUpgrade(req, socket, head, (ws) => this.options.onClient(ws, socket, parsed));
  }
}
