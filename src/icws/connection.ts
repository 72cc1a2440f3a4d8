/**
 * One ICWS session over HTTP (docs/icws.md "Connecting"): POST /icws/connection with Accept-Language, then every
 * request under /icws/{sessionId}/ with the session cookie and the ININ-ICWS-CSRF-Token header. Bodies are read
 * with a size bound; answers that are not successes become typed errors (errors/). No retries here: the callers
 * (session loop, subscription, mailboxes command) decide what a failure means.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import got, { type Request as GotRequest, type Method } from 'got';
import type { Config } from '../config/defaults.js';
import type { Logger } from '../log/logger.js';
import { registerSecret, SecretScope } from '../log/redact.js';
import type { Metrics } from '../metrics/metrics.js';
import { IcwsConfigError, IcwsError, IcwsRedirectError, IcwsUnauthorizedError } from './errors.js';
import { locationHost } from './errors/redirect-error.js';
import { errorFor } from './failures.js';
import { header, networkError, parseJson, readBody, sessionCookie } from './http-answer.js';

export interface ConnectionOptions {
  /** Base URL ending in /icws (config icws.url). */
  url: string;
  /** Base URL of an alternate server, with {host} where its name goes ('' = url with the host replaced). */
  alternateUrlTemplate?: string;
  user: string;
  password: string;
  applicationName: string;
  acceptLanguage: string;
  requestTimeoutMs: number;
  /** Largest response body accepted (config icws.maxMessageBytes). */
  maxBodyBytes: number;
  tls?: { caFile: string; rejectUnauthorized: boolean };
  metrics?: Metrics;
  logger?: Logger;
}

/** What the server told us at login. */
export interface SessionInfo {
  sessionId: string;
  csrfToken: string;
  /** "icws_<sessionId>=<value>", sent back on every request. */
  cookie: string;
  /** Base URL (…/icws) of the server that accepted the login: the configured one or an alternate host. */
  baseUrl: string;
  icServer: string;
  userID: string;
  alternateHostList: string[];
  /** featureId → version; a feature missing from the map is unsupported. */
  features: Map<string, number>;
  /** daysUntilPasswordExpiration of the login answer; undefined when the server did not say. */
  passwordExpiryDays?: number;
  /** The server's version object (`?include=version`), when it sent one. */
  version?: Record<string, unknown>;
}

export interface IcwsResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  /** The body as received (e.g. for a short sample of an answer that is not the expected JSON). */
  text: string;
}

export interface RequestOptions {
  /** Route label for metrics and errors, e.g. "PUT subscription" (never an id). */
  route: string;
  json?: unknown;
  headers?: Record<string, string>;
  /** Statuses returned instead of thrown (e.g. [404] for DELETE subscription). */
  allowStatus?: number[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class IcwsConnection {
  private current?: SessionInfo;
  /** The session's CSRF token and cookie: masked in every output while the session lives. */
  private readonly sessionSecrets = new SecretScope();
  private readonly https: { certificateAuthority?: Buffer; rejectUnauthorized: boolean };

  constructor(readonly options: ConnectionOptions) {
    registerSecret(options.password, [options.user, options.applicationName]);
    this.https = {
      rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
      ...(options.tls?.caFile ? { certificateAuthority: readCaFile(options.tls.caFile) } : {}),
    };
  }

  get session(): SessionInfo | undefined {
    return this.current;
  }

  /**
   * The base URL of the alternate server `host` (alternateHostList): the configured URL with its host replaced (same
   * scheme and port), or, behind the vendor's web proxy, icws.alternateUrlTemplate with `host` for {host}
   * (docs/icws.md "Real sites": the proxy names the IC server as a path segment).
   */
  alternateUrl(host: string): string {
    const template = this.options.alternateUrlTemplate;
    if (template) return template.replaceAll('{host}', encodeURIComponent(host)).replace(/\/$/, '');
    const u = new URL(this.options.url);
    u.hostname = host;
    return u.toString().replace(/\/$/, '');
  }

  /**
   * Log in at `baseUrl` (default: the configured URL). 503 → IcwsUnavailableError with the alternate hosts;
   * refused credentials → IcwsAuthenticationError (failures.ts says which answers mean that).
   */
  async connect(baseUrl = this.options.url, signal?: AbortSignal): Promise<SessionInfo> {
    const base = baseUrl.replace(/\/$/, '');
    const res = await this.send<Record<string, unknown>>(
      'POST',
      `${base}/connection?include=features,version`,
      {
        route: 'POST connection',
        json: {
          __type: 'urn:inin.com:connection:icAuthConnectionRequestSettings',
          applicationName: this.options.applicationName,
          userID: this.options.user,
          password: this.options.password,
        },
        signal,
      },
      'connect',
    );
    const body = res.body ?? {};
    const sessionId = header(res.headers, 'inin-icws-session-id') ?? (typeof body.sessionId === 'string' ? body.sessionId : '');
    const csrfToken = header(res.headers, 'inin-icws-csrf-token') ?? (typeof body.csrfToken === 'string' ? body.csrfToken : '');
    const cookie = sessionCookie(res.headers['set-cookie'], sessionId);
    if (!sessionId || !csrfToken || !cookie) {
      throw new IcwsError(res.status, 'POST connection', undefined, 'login answer lacks the session id, the CSRF token or the session cookie');
    }
    // The value may carry more after the id (`<guid>|languageId=en-us`): it is sent back whole, and both are secret.
    const cookieValue = cookie.slice(cookie.indexOf('=') + 1);
    this.sessionSecrets.replace(csrfToken, cookieValue, cookieValue.split('|')[0]);
    const features = new Map<string, number>();
    for (const f of (Array.isArray(body.features) ? body.features : []) as { featureId?: unknown; version?: unknown }[]) {
      if (typeof f?.featureId === 'string' && typeof f.version === 'number') features.set(f.featureId, f.version);
    }
    this.current = {
      sessionId,
      csrfToken,
      cookie,
      baseUrl: base,
      icServer: typeof body.icServer === 'string' ? body.icServer : new URL(base).hostname,
      userID: typeof body.userID === 'string' ? body.userID : this.options.user,
      alternateHostList: Array.isArray(body.alternateHostList) ? body.alternateHostList.filter((h): h is string => typeof h === 'string') : [],
      features,
      ...(typeof body.daysUntilPasswordExpiration === 'number' && Number.isFinite(body.daysUntilPasswordExpiration)
        ? { passwordExpiryDays: body.daysUntilPasswordExpiration }
        : {}),
      ...(body.version && typeof body.version === 'object' ? { version: body.version as Record<string, unknown> } : {}),
    };
    return this.current;
  }

  /** A GET that needs no session, under the configured base URL (e.g. "/connection/version", "/connection/features"). */
  async getUnauthenticated<T = unknown>(path: string, options: RequestOptions): Promise<IcwsResponse<T>> {
    return this.send<T>('GET', `${this.options.url.replace(/\/$/, '')}${path}`, options, 'session', path.replace(/^\//, ''));
  }

  /** A request under /icws/{sessionId}/ (`path` starts with '/', e.g. "/messaging/messages"). */
  async request<T = unknown>(method: Method, path: string, options: RequestOptions): Promise<IcwsResponse<T>> {
    const session = this.requireSession(options.route);
    return this.send<T>(method, `${session.baseUrl}/${session.sessionId}${path}`, options, 'session', path.replace(/^\//, ''));
  }

  /**
   * Opens a long-lived response under the session (server-sent events). Resolves with the open stream once a 200
   * arrived; a non-2xx answer is read (bounded) and thrown as the matching error.
   */
  async openStream(path: string, options: RequestOptions): Promise<GotRequest> {
    const session = this.requireSession(options.route);
    const abort = requestSignal(options.signal);
    const stream = got.stream(`${session.baseUrl}/${session.sessionId}${path}`, {
      method: 'GET',
      headers: { ...this.sessionHeaders(session), accept: 'text/event-stream', ...options.headers },
      throwHttpErrors: false,
      retry: { limit: 0 },
      followRedirect: false,
      https: this.https,
      timeout: { response: options.timeoutMs ?? this.options.requestTimeoutMs },
      ...(abort.signal ? { signal: abort.signal } : {}),
    });
    stream.once('close', abort.release);
    const response = await new Promise<{ statusCode: number; headers: IcwsResponse['headers'] }>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('error', (err: NodeJS.ErrnoException) => reject(networkError(options.route, err, this.options.requestTimeoutMs)));
    });
    this.options.metrics?.icwsRequests.inc({ route: options.route, code: String(response.statusCode) });
    if (response.statusCode >= 200 && response.statusCode < 300) return stream;
    if (isRedirect(response.statusCode)) {
      stream.destroy();
      throw new IcwsRedirectError(
        response.statusCode,
        options.route,
        locationHost(header(response.headers, 'location'), stream.requestUrl?.toString() ?? session.baseUrl),
      );
    }
    const text = await readBody(stream, 64 * 1024, options.route).catch(() => '');
    throw errorFor(response.statusCode, options.route, parseJson(text), text, 'session', path.replace(/^\//, ''));
  }

  /** DELETE /icws/{sessionId}/connection; a session already gone is fine. Forgets the session either way. */
  async disconnect(signal?: AbortSignal): Promise<void> {
    if (!this.current) return;
    try {
      await this.request('DELETE', '/connection', { route: 'DELETE connection', allowStatus: [401, 404], signal });
    } finally {
      this.current = undefined;
      this.sessionSecrets.clear();
    }
  }

  /** Forget the session without telling the server (it is already dead). */
  forget(): void {
    this.current = undefined;
    this.sessionSecrets.clear();
  }

  private requireSession(route: string): SessionInfo {
    if (!this.current) throw new IcwsUnauthorizedError(401, route, undefined, 'no ICWS session (not logged in)');
    return this.current;
  }

  private sessionHeaders(session: SessionInfo): Record<string, string> {
    return {
      'accept-language': this.options.acceptLanguage,
      'ININ-ICWS-CSRF-Token': session.csrfToken,
      cookie: session.cookie,
    };
  }

  private async send<T>(method: Method, url: string, options: RequestOptions, request: 'connect' | 'session', resource?: string): Promise<IcwsResponse<T>> {
    const withSession = request === 'session';
    const headers: Record<string, string> = {
      // Real servers answer application/vnd.inin.icws+JSON (docs/icws.md "Content type"); plain JSON is parsed alike.
      accept: 'application/vnd.inin.icws+json, application/json;q=0.9',
      'accept-language': this.options.acceptLanguage,
      ...(withSession && this.current ? this.sessionHeaders(this.current) : {}),
      ...options.headers,
    };
    const started = performance.now();
    let status: number;
    let resHeaders: IcwsResponse['headers'];
    let text: string;
    const abort = requestSignal(options.signal);
    try {
      const stream = got.stream(url, {
        method,
        headers: options.json === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }),
        throwHttpErrors: false,
        retry: { limit: 0 },
        // got follows 301/302/307/308 by default, re-sending a 307/308's body (the login's password) to the Location.
        followRedirect: false,
        https: this.https,
        timeout: { request: options.timeoutMs ?? this.options.requestTimeoutMs },
        ...(abort.signal ? { signal: abort.signal } : {}),
      });
      // A got stream with a body-capable method (DELETE…) and no body waits for one to be piped: end it.
      if (options.json === undefined && method !== 'GET' && method !== 'HEAD') stream.end();
      const response = new Promise<{ statusCode: number; headers: IcwsResponse['headers'] }>((resolve) => stream.once('response', resolve));
      text = await readBody(stream, this.options.maxBodyBytes, options.route);
      ({ statusCode: status, headers: resHeaders } = await response);
    } catch (err) {
      this.options.metrics?.icwsRequests.inc({ route: options.route, code: 'error' });
      if (err instanceof IcwsError) throw err;
      throw networkError(options.route, err as NodeJS.ErrnoException, options.timeoutMs ?? this.options.requestTimeoutMs);
    } finally {
      abort.release();
    }
    this.options.metrics?.icwsRequests.inc({ route: options.route, code: String(status) });
    this.options.metrics?.icwsRequestDuration.observe({ route: options.route }, (performance.now() - started) / 1000);
    if (isRedirect(status)) throw new IcwsRedirectError(status, options.route, locationHost(header(resHeaders, 'location'), url));
    const body = parseJson(text);
    if ((status >= 200 && status < 300) || options.allowStatus?.includes(status)) {
      return { status, headers: resHeaders, body: body as T, text };
    }
    throw errorFor(status, options.route, body, text, request, resource);
  }
}

/**
 * A signal of one request's own that follows `signal`. got leaves the abort listener it adds on the signal it is given
 * after the request ended, and the feed's signal lives as long as the daemon: each login and PUT would keep a
 * listener, and with it the finished request, for good.
 */
function requestSignal(signal: AbortSignal | undefined): { signal?: AbortSignal; release: () => void } {
  if (!signal) return { release: () => {} };
  const own = new AbortController();
  if (signal.aborted) {
    own.abort(signal.reason);
    return { signal: own.signal, release: () => {} };
  }
  const follow = () => own.abort(signal.reason);
  signal.addEventListener('abort', follow, { once: true });
  return { signal: own.signal, release: () => signal.removeEventListener('abort', follow) };
}

const isRedirect = (status: number) => status >= 300 && status < 400;

/** The connection the icws.* keys describe: the users feed and `icwatch mailboxes` log in the same way. */
export function connectionFromConfig(icws: Config['icws'], deps: { metrics?: Metrics; logger?: Logger } = {}): IcwsConnection {
  return new IcwsConnection({
    url: icws.url,
    alternateUrlTemplate: icws.alternateUrlTemplate,
    user: icws.user,
    password: icws.password,
    applicationName: icws.applicationName,
    acceptLanguage: icws.acceptLanguage,
    requestTimeoutMs: icws.requestTimeoutMs,
    maxBodyBytes: icws.maxMessageBytes,
    tls: icws.tls,
    ...deps,
  });
}

/**
 * Which server a base URL reaches, for logs and the session state: host and port, and the path before /icws when
 * there is one (behind the vendor's web proxy the server is named there: "proxy:443/api/ic2").
 */
export function serverAt(baseUrl: string): string {
  const u = new URL(baseUrl);
  return u.host + u.pathname.replace(/\/icws\/?$/i, '').replace(/\/$/, '');
}

/** The CA file's content; an unreadable file is a configuration error naming the key (exit 78), not a crash. */
function readCaFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new IcwsConfigError(0, 'TLS setup', undefined, `cannot read the CA file ${path} (${code}): expected a readable PEM file`, 'icws.tls.caFile');
  }
}
