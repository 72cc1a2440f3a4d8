/** Small node:http helpers shared by the simulator's routes: JSON answers, ICWS error bodies, bounded bodies, cookies. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** ICWS error body (NOTES.md "Errors"). */
export interface ErrorBody {
  __type?: string;
  errorId?: string;
  message: string;
  [extra: string]: unknown;
}

/** The header every 401 carries, as the reference pages show it. */
export const WWW_AUTHENTICATE = 'ICWS realm="ICWS" location="/ICWS/connection"';

/** The errorId a status gets when a fault or route does not name one. */
export function defaultErrorId(status: number): string {
  switch (status) {
    case 400:
      return 'error.request.invalidRepresentation';
    case 401:
      return 'error.request.connection.invalidSession';
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
  401: 'The specified session token is missing, invalid, or has expired.',
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

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) } : { 'Content-Length': 0 }),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, error: Partial<ErrorBody> = {}, headers: Record<string, string | string[]> = {}): void {
  const body: ErrorBody = { ...error, errorId: error.errorId ?? defaultErrorId(status), message: error.message ?? defaultErrorMessage(status) };
  sendJson(res, status, body, status === 401 ? { 'WWW-Authenticate': WWW_AUTHENTICATE, ...headers } : headers);
}

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

export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyError(`request body larger than ${maxBytes} bytes`, 413));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    // A client that gave up (e.g. during an injected delay) must not leave this promise pending forever.
    req.on('close', () => {
      if (!req.complete) reject(new BodyError('the client closed the request before sending its body'));
    });
  });
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
