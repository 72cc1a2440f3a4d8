/** Small node:http helpers shared by the simulator's routes: JSON answers, ICWS error bodies, bounded bodies, cookies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBoundedBody } from '../util/read-bounded.js';

/** ICWS error body (docs/icws.md "Errors"): errorId and errorCode are both optional on real servers. */
export interface ErrorBody {
  __type?: string;
  errorId?: string;
  errorCode?: number;
  message: string;
  [extra: string]: unknown;
}

/** The media type real servers give ICWS bodies (docs/icws.md "Content type"); the control API answers plain JSON. */
export const ICWS_CONTENT_TYPE = 'application/vnd.inin.icws+JSON; charset=utf-8';
export const CONTROL_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The header every 401 carries, as the reference pages show it. */
export const WWW_AUTHENTICATE = 'ICWS realm="ICWS" location="/ICWS/connection"';

/** The errorId a status gets when a fault or route does not name one. */
export function defaultErrorId(status: number): string {
  switch (status) {
    case 400:
      return 'error.request.invalidRepresentation';
    case 401:
      return 'error.request.connection.authenticationFailure';
    case 403:
      return 'error.request.accessDenied';
    case 404:
      return 'error.request.notFound';
    case 410:
      return 'error.request.gone';
    case 503:
      return 'error.server.unavailable';
    case 504:
      return 'error.request.timeout';
    default:
      return 'error.request.internalServerError';
  }
}

const DEFAULT_MESSAGES: Record<number, string> = {
  401: 'The session identifier is invalid.',
  403: 'Not authorized to modify these resources.',
  404: 'The resource does not exist.',
  410: 'This resource has been deprecated and removed from the API.',
  500: 'The server encountered an unexpected, internal error.',
  503: 'The server is not accepting connections.',
  504: 'The request timed out.',
};

export function defaultErrorMessage(status: number): string {
  return DEFAULT_MESSAGES[status] ?? `The request failed with status ${status}.`;
}

/** An ICWS answer (`contentType` for the control API's plain JSON). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
  contentType = ICWS_CONTENT_TYPE,
): void {
  if (res.headersSent || res.destroyed) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) } : { 'Content-Length': 0 }),
    ...headers,
  });
  res.end(text);
}

/**
 * An ICWS error; `false` answers without a body (some servers and proxies send a bare 401). A 401 carries
 * WWW-Authenticate and, unless told otherwise, the body real servers give an invalid session: errorId
 * authenticationFailure with errorCode -2147221499. A 401 given only an errorCode (1, 2) gets no errorId.
 */
export function sendError(res: ServerResponse, status: number, error: Partial<ErrorBody> | false = {}, headers: Record<string, string | string[]> = {}): void {
  let body: ErrorBody | undefined;
  if (error !== false) {
    const sessionCode = status === 401 && error.errorId === undefined ? (error.errorCode ?? SESSION_INVALID) : error.errorCode;
    const errorId = error.errorId ?? (status === 401 && sessionCode !== SESSION_INVALID ? undefined : defaultErrorId(status));
    body = {
      ...error,
      ...(errorId ? { errorId } : {}),
      ...(sessionCode !== undefined ? { errorCode: sessionCode } : {}),
      message: error.message ?? defaultErrorMessage(status),
    };
  }
  sendJson(res, status, body, status === 401 ? { 'WWW-Authenticate': WWW_AUTHENTICATE, ...headers } : headers);
}

/** errorCode of a 401 on a session request, as real servers send them (docs/icws.md "Errors"). */
export const SESSION_ID_WRONG_FORM = 1;
export const SESSION_ID_NOT_FOUND = 2;
export const SESSION_INVALID = -2147221499;
/** errorCode of a refused login, sent with errorId error.request.connection.authenticationFailure. */
export const LOGIN_REFUSED = -2147221503;

/** Thrown by readBody/readJson; the router answers it as a 400 (or 413). */
export class BodyError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const body = await readBoundedBody(req, {
    limit: maxBytes,
    tooLarge: () => new BodyError(`request body larger than ${maxBytes} bytes`, 413),
    onOverflow: 'drain', // the client still gets its 413
    closedEarly: () => new BodyError('the client closed the request before sending its body'),
  });
  return body.toString('utf8');
}

/** The body as JSON; an empty body is undefined. Malformed JSON → BodyError naming the parse problem. */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const text = await readBody(req, maxBytes);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BodyError(`the request body is not valid JSON (${(err as Error).message})`);
  }
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}
