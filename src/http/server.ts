/**
 * The one HTTP server of the daemon (http.host:http.port): /metrics, /healthz, /readyz, `/` (the live page and its
 * script), /v1/status (the page's status JSON), the HTTP reads of the directory on the WebSocket path, 404 JSON
 * otherwise. The WebSocket fan-out attaches to its `upgrade` event, so clients use the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.js';
import { redactStrings, redactText } from '../log/redact.js';
import type { Metrics } from '../metrics/metrics.js';
import { AccessDoor, isRefusal, type SitePolicy } from '../fanout/access.js';
import { pickProps } from '../fanout/frames.js';
import type { ChangeEntry } from '../mirror/change.js';
import { STATUS } from '../mirror/status-reads.js';
import { hostNameOf } from '../util/loopback.js';
import { PAGE_STYLE, renderLivePage } from './live-page.js';
import { PageAssets } from './page-assets.js';
import { lagHistograms, type HistogramSample } from './status-json.js';
import { sendRefusal, UsersReads, type UsersReadsOptions } from './users-api.js';
import { admitRequest } from './users-query.js';
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
  /** The HTTP reads of the directory (and the tokens /v1/status and /metrics ask for); without them, none. */
  reads?: Omit<UsersReadsOptions, 'logger' | 'metrics' | 'site'>;
  /** Origin and Host checks of every request but /healthz and /readyz (src/fanout/access.ts). */
  site?: Partial<SitePolicy>;
  /** The lag histograms of /v1/status when not all of them are in `metrics` (a worker: the redis stage is the primary's). */
  lagHistograms?: () => Promise<Record<string, HistogramSample>>;
}

/** Where the page's script and style are served (no token: they hold no data). */
export const PAGE_SCRIPT_PATH = '/assets/page.js';
export const PAGE_STYLE_PATH = '/assets/page.css';

/** The probes' endpoints: open to all, they say only whether icwatch is ready and why. */
const PROBES = new Set(['/healthz', '/readyz']);

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
  private readonly door: AccessDoor;
  private readonly assets: PageAssets;

  constructor(private readonly options: HttpServerOptions) {
    this.reads = options.reads && new UsersReads({ ...options.reads, site: options.site, logger: options.logger, metrics: options.metrics });
    this.door = this.reads?.door ?? new AccessDoor([], options.site);
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
    if (!PROBES.has(path)) {
      const foreign = this.door.siteRefusal(req.headers);
      if (foreign) return sendRefusal(res, foreign);
    }
    if (this.reads?.serves(path)) return this.reads.handle(req, res, path);
    switch (path) {
      case '/metrics': {
        const denied = admitRequest(req, this.door);
        if (isRefusal(denied)) return sendRefusal(res, denied);
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
        // Open to probes: ready or not and why (the last error too: a refused write, an untrusted certificate), without
        // host names, addresses or replica ids (those are in /v1/status).
        const ha = r.leadership ? { leadership: r.leadership } : {};
        const held = r.removalsHeld ? { removalsHeld: r.removalsHeld, held: removalsHeldText(r.removalsHeld) } : {};
        if (r.ready) return sendJson(res, 200, { status: 'ready', ...ha, ...held, checks: r.checks });
        const why = r.reason ? withoutHostNames(r.reason) : '';
        return sendJson(res, 503, {
          status: 'not ready',
          reason: `${missing.length ? `missing: ${missing.join(', ')}` : 'not ready'}${why ? ` (${why})` : ''}`,
          missing,
          ...ha,
          ...held,
          checks: r.checks,
          ...(r.lastError ? { lastError: withoutHostNames(redactText(r.lastError)) } : {}),
        });
      }
      case '/': {
        // The page holds no data of its own when tokens guard the reads: its script fetches them with the token.
        const view = this.door.open ? redactStrings(await this.options.status()) : blankStatus(await this.options.status());
        const html = renderLivePage(view, PAGE_SCRIPT_PATH, PAGE_STYLE_PATH);
        res.writeHead(200, { ...pageHeaders(req), 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : html);
        return;
      }
      case PAGE_STYLE_PATH:
        res.writeHead(200, { ...pageHeaders(req), 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'no-cache' });
        res.end(req.method === 'HEAD' ? undefined : PAGE_STYLE);
        return;
      case PAGE_SCRIPT_PATH: {
        const script = await this.assets.pageScript();
        if (req.headers['if-none-match'] === script.etag) return void res.writeHead(304, { ETag: script.etag }).end();
        res.writeHead(200, {
          ...pageHeaders(req),
          'Content-Type': 'text/javascript; charset=utf-8',
          'Cache-Control': 'no-cache',
          ETag: script.etag,
          'Content-Length': script.body.length,
        });
        res.end(req.method === 'HEAD' ? undefined : script.body);
        return;
      }
      case '/v1/status': {
        const grant = admitRequest(req, this.door);
        if (isRefusal(grant)) return sendRefusal(res, grant);
        const [status, readiness, lag] = await Promise.all([
          this.options.status(),
          this.options.readiness(),
          this.options.lagHistograms?.() ?? lagHistograms(this.options.metrics),
        ]);
        const scoped = { ...status, recentChanges: scopedChanges(status.recentChanges, grant.props) };
        return sendJson(res, 200, { ...redactStrings(scoped), readiness: redactStrings(readiness), lagHistograms: lag });
      }
      default:
        return sendJson(res, 404, {
          error: 'not found',
          path,
          endpoints: ['/', '/metrics', '/healthz', '/readyz', '/v1/status', ...(this.reads?.paths ?? [])],
        });
    }
  }
}

/** The recent changes a grant may see: an upsert's properties within its scope, status changes only with `status`. */
function scopedChanges(changes: readonly ChangeEntry[], props: ReadonlySet<string> | null): ChangeEntry[] {
  if (!props) return [...changes];
  const out: ChangeEntry[] = [];
  for (const c of changes) {
    if (c.op === 'upsert') out.push({ ...c, data: pickProps(c.data, props) });
    else if (c.op !== 'status' || props.has(STATUS)) out.push(c);
  }
  return out;
}

/** What /readyz and the status page say of a hold (README "Mass deletions are held"). */
export function removalsHeldText(n: number): string {
  return `${n} removals held: a message would have removed them at once (icwatch removals --list, then --apply or --discard)`;
}

/**
 * The page's headers (README "Security"): its own origin only, for scripts, styles and connections (browsers differ
 * on whether 'self' covers ws:, so its ws: and wss: are named), never framed, no sniffing, no Referer.
 */
function pageHeaders(req: IncomingMessage): Record<string, string> {
  const host = req.headers.host && hostNameOf(req.headers.host) !== null ? req.headers.host : undefined;
  const sockets = host ? ` ws://${host} wss://${host}` : '';
  return {
    'Content-Security-Policy': `default-src 'self'; connect-src 'self'${sockets}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  };
}

/** The status with nothing of the directory or the hosts in it (the page's first paint when tokens guard the reads). */
function blankStatus(view: StatusView): StatusView {
  return { version: view.version, role: view.role, daemon: view.daemon, session: '—', redis: '—', lag: {}, recentChanges: [] };
}

/** A reason without host names, addresses or URLs: /readyz is open to anyone who reaches the port. */
export function withoutHostNames(text: string): string {
  return (
    text
      .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>')
      .replace(/\b(replica:|replica \(|leader is)\s*[^\s,)]+/g, '$1 <replica>')
      .replace(/\[[0-9a-f:.]+\](:\d+)?/gi, '<host>')
      .replace(/\b(to|on|at|from|leader|by)\s+[A-Za-z0-9._-]+(:\d+)?/g, '$1 <host>')
      // dotted names and addresses, but not configuration keys (icws.user)
      .replace(/\b(?!(?:role|icws|subscription|redis|http|websocket|log|ha|shutdown)\.[a-z])[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?\b/g, '<host>')
      .replace(/\b[A-Za-z0-9-]+:\d{1,5}\b/g, '<host>')
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(redactStrings(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
