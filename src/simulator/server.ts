/**
 * The simulator's HTTP server: records each ICWS request, applies injected faults, authenticates session routes
 * (cookie + CSRF, 401 with WWW-Authenticate otherwise), dispatches to the ICWS routes or the /_sim/ control API,
 * and keeps every socket so that close() and dropConnections() reach SSE streams and keep-alive connections too.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { handleControl } from './control-http.js';
import type { SimulatorControl } from './control.js';
import type { Fault } from './faults.js';
import { BodyError, sendError } from './http.js';
import { ROUTES, type Route } from './icws-routes.js';
import { wantsStream } from './messaging.js';
import type { RequestRecord, SimulatorState } from './state.js';

function match(path: string, method: string): { route: Route; params: Record<string, string> } | { methodNotAllowed: boolean } {
  let methodNotAllowed = false;
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    if (route.method !== method) {
      methodNotAllowed = true;
      continue;
    }
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.groups ?? {})) params[k] = decodeURIComponent(v);
    return { route, params };
  }
  return { methodNotAllowed };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SimulatorServer {
  readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly state: SimulatorState,
    private readonly control: SimulatorControl,
    /** HTTPS with this key and certificate (tls.ts); plain HTTP without. */
    tls?: { key: Buffer; cert: Buffer },
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    };
    this.server = tls ? createHttpsServer(tls, handler) : createServer(handler);
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // A client that vanishes mid-request must never take the simulator down.
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.dropConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname === '/_sim' || url.pathname.startsWith('/_sim/')) return handleControl(req, res, url, this.control, this.state);

    const found = match(url.pathname, method);
    const record: RequestRecord = {
      method,
      path: url.pathname,
      route: 'route' in found ? found.route.template : url.pathname,
      name: 'route' in found ? found.route.name : 'unknown',
      status: 0,
      at: Date.now(),
    };
    this.state.record(record);
    res.on('finish', () => (record.status = res.statusCode));

    const fault = this.state.faults.take('route' in found ? found.route.name : 'unknown', method);
    if (fault) {
      // A 401 means the session is gone, on a real server as here.
      if (fault.status === 401 && 'route' in found && found.params.sessionId) this.state.sessions.forget(found.params.sessionId);
      if (await this.applyFault(fault, req, res)) return;
    }

    if (!('route' in found)) {
      if (found.methodNotAllowed)
        return sendError(res, 405, { errorId: 'error.request.methodNotAllowed', message: `${method} is not allowed on ${url.pathname}.` });
      return sendError(res, 404, { errorId: 'error.request.notFound', message: `No resource at ${url.pathname}.` });
    }
    const { route, params } = found;
    let session;
    if (route.authenticated) {
      const messages = route.name === 'messages';
      const check = this.state.sessions.authenticate(params.sessionId!, req, {
        allowDown: messages,
        cookieOnly: messages && wantsStream(req, this.state.options),
      });
      if (!check.ok) return sendError(res, 401, { errorCode: check.errorCode, message: check.message });
      session = check.session;
    }
    await route.handle({ req, res, state: this.state, params, url, session });
  }

  /** Returns true when the fault answered (or dropped) the request; false when, after its delay, it proceeds. */
  private async applyFault(fault: Fault, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.drop) {
      req.socket.destroy();
      return true;
    }
    if (fault.status === undefined) return false;
    const extra: Record<string, unknown> = {};
    if (fault.alternateHostList) extra.alternateHostList = fault.alternateHostList;
    else if (fault.status === 503) extra.alternateHostList = this.state.options.alternateHostList;
    req.resume(); // the body is not read, but must not stall the connection
    if (fault.emptyBody) {
      sendError(res, fault.status, false);
      return true;
    }
    sendError(res, fault.status, { errorId: fault.errorId, errorCode: fault.errorCode, message: fault.message, ...extra });
    return true;
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (err instanceof BodyError) {
      return sendError(res, err.status, {
        errorId: 'error.request.invalidRepresentation.malformed',
        message: `The request representation object was malformed: ${err.message}.`,
      });
    }
    this.state.log.error('simulator request failed', { error: err instanceof Error ? err.message : String(err) });
    if (!res.headersSent) sendError(res, 500, { message: 'The simulator failed while handling the request.' });
    else res.destroy();
  }
}
