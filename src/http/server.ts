/**
 * The one HTTP server of the daemon (http.host:http.port): /metrics, /healthz, /readyz, `/` (the live page and its
 * script), /v1/status (the page's status JSON), the HTTP reads of the directory on the WebSocket path, 404 JSON
 * otherwise. The WebSocket fan-out attaches to its `upgrade` event, so clients use the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.js';
import { redactStrings } from '../log/redact.js';
import type { Metrics } from '../metrics/metrics.js';
import { renderLivePage, renderTokenPage } from './live-page.js';
import { PageAssets } from './page-assets.js';
import { lagHistograms, type HistogramSample } from './status-json.js';
import { sendRefusal, UsersReads, type UsersReadsOptions } from './users-api.js';
import type { Readiness, StatusView } from './types.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  readiness(): Promise<Readiness>;
  status(): Promise<StatusView>;
  logger: Logger;
  /** Idle keep-alive connections are closed after this (Prometheus scrapes reuse connections). */
  keepAliveTimeoutMs?: number;
  /** The HTTP reads of the directory (and the token the page and /v1/status ask for); without them, none. */
  reads?: Omit<UsersReadsOptions, 'logger' | 'metrics'>;
  /** The lag histograms of /v1/status when not all of them are in `metrics` (a worker: the redis stage is the primary's). */
  lagHistograms?: () => Promise<Record<string, HistogramSample>>;
}

/** Where the page's script is served (no token: it holds no data). */
export const PAGE_SCRIPT_PATH = '/assets/page.js';

/** The port is taken (or not ours to take): the message says which and what to do. */
export class HttpListenError extends Error {
  override name = 'HttpListenError';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string | undefined,
  ) {
    super(
      code === 'EADDRINUSE'
        ? `http.port: port ${port} on ${host} is already in use (another icwatch?); choose another with http.port / ICWATCH_HTTP_PORT`
        : code === 'EACCES'
          ? `http.port: not allowed to listen on ${host}:${port} (ports below 1024 need privileges); choose another with http.port`
          : `http.host/http.port: cannot listen on ${host}:${port}: ${code ?? 'unknown error'}`,
    );
  }
}

export class HttpServer {
  readonly server: Server;
  readonly reads: UsersReads | undefined;
  private readonly assets: PageAssets;

  constructor(private readonly options: HttpServerOptions) {
    this.reads = options.reads && new UsersReads({ ...options.reads, logger: options.logger, metrics: options.metrics });
    this.assets = new PageAssets(options.logger);
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        options.logger.warn(`HTTP ${req.method} ${req.url} failed: ${(err as Error).message}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error', message: (err as Error).message });
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 5000;
  }

  /** Listen; resolves with the bound port (http.port 0 = any free port), rejects with HttpListenError. */
  listen(): Promise<number> {
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(new HttpListenError(host, port, err.code));
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  get port(): number | undefined {
    return (this.server.address() as AddressInfo | null)?.port;
  }

  /** Stop accepting, end idle keep-alive connections, wait for requests under way. */
  close(): Promise<void> {
    this.reads?.close();
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendJson(res, 405, { error: 'method not allowed', expected: 'GET or HEAD' });
    }
    if (this.reads?.serves(path)) return this.reads.handle(req, res, path);
    switch (path) {
      case '/metrics': {
        const { registry } = this.options.metrics;
        res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
        res.end(await registry.metrics());
        return;
      }
      case '/healthz':
        return sendJson(res, 200, { status: 'ok' });
      case '/readyz': {
        const r = await this.options.readiness();
        const missing = Object.entries(r.checks)
          .filter(([, ok]) => !ok)
          .map(([name]) => name);
        const ha = r.leadership ? { leadership: r.leadership, ...(r.leader ? { leader: r.leader } : {}) } : {};
        const held = r.removalsHeld ? { removalsHeld: r.removalsHeld, held: removalsHeldText(r.removalsHeld) } : {};
        if (r.ready) return sendJson(res, 200, { status: 'ready', ...ha, ...held, checks: r.checks });
        return sendJson(res, 503, {
          status: 'not ready',
          reason: `${missing.length ? `missing: ${missing.join(', ')}` : 'not ready'}${r.reason ? ` (${r.reason})` : ''}`,
          missing,
          ...ha,
          ...held,
          checks: r.checks,
          ...(r.lastError ? { lastError: r.lastError } : {}),
        });
      }
      case '/': {
        const denied = this.reads?.refusal(req);
        if (denied) {
          const html = renderTokenPage(denied.error);
          res.writeHead(denied.status, {
            'Content-Type': 'text/html; charset=utf-8',
            'Cache-Control': 'no-store',
            'WWW-Authenticate': 'Bearer realm="icwatch"',
          });
          res.end(html);
          return;
        }
        const html = renderLivePage(redactStrings(await this.options.status()), PAGE_SCRIPT_PATH);
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(html);
        return;
      }
      case PAGE_SCRIPT_PATH: {
        const script = await this.assets.pageScript();
        if (req.headers['if-none-match'] === script.etag) return void res.writeHead(304, { ETag: script.etag }).end();
        res.writeHead(200, {
          'Content-Type': 'text/javascript; charset=utf-8',
          'Cache-Control': 'no-cache',
          ETag: script.etag,
          'Content-Length': script.body.length,
        });
        res.end(req.method === 'HEAD' ? undefined : script.body);
        return;
      }
      case '/v1/status': {
        const denied = this.reads?.refusal(req);
        if (denied) return sendRefusal(res, denied);
        const [status, readiness, lag] = await Promise.all([
          this.options.status(),
          this.options.readiness(),
          this.options.lagHistograms?.() ?? lagHistograms(this.options.metrics),
        ]);
        return sendJson(res, 200, { ...redactStrings(status), readiness: redactStrings(readiness), lagHistograms: lag });
      }
      default:
        return sendJson(res, 404, {
          error: 'not found',
          path,
          endpoints: ['/', '/metrics', '/healthz', '/readyz', '/v1/status', ...(this.reads ? ['/v1/users'] : [])],
        });
    }
  }
}

/** What /readyz and the status page say of a hold (README "Mass deletions are held"). */
export function removalsHeldText(n: number): string {
  return `${n} removals held: a message would have removed them at once (icwatch removals --list, then --apply or --discard)`;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(redactStrings(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
