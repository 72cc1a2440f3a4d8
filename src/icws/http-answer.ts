/**
 * Reading an ICWS answer (docs/icws.md "Connecting"): the body with a size bound, JSON that may not be JSON, headers,
 * the session cookie of a login answer, and transport failures as typed errors.
 */
import type { Request as GotRequest } from 'got';
import { readBoundedBody } from '../util/read-bounded.js';
import { IcwsNetworkError } from './errors.js';

/** Node's codes for a certificate chain that does not lead to a trusted CA, an expired one or a name mismatch. */
const UNTRUSTED_CERTIFICATE = /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_|CERT_|ERR_TLS_CERT_ALTNAME_INVALID)/;

/** A transport failure (timeout, abort, reset…) as the IcwsNetworkError callers classify. */
export function networkError(route: string, err: NodeJS.ErrnoException, timeoutMs: number): IcwsNetworkError {
  const code = err.code ?? err.name ?? 'ERROR';
  if (code === 'ETIMEDOUT' || err.name === 'TimeoutError') {
    return new IcwsNetworkError(route, 'ETIMEDOUT', `no answer within ${timeoutMs} ms (icws.requestTimeoutMs)`);
  }
  if (err.name === 'AbortError' || code === 'ERR_ABORTED') return new IcwsNetworkError(route, 'ABORTED', 'request aborted');
  if (UNTRUSTED_CERTIFICATE.test(code)) {
    // Sites commonly run private-CA or self-signed certificates (docs/icws.md "Real sites"): say what to give icwatch.
    return new IcwsNetworkError(
      route,
      code,
      `the ICWS server's TLS certificate is not trusted (${err.message.split('\n')[0]}): set icws.tls.caFile to the PEM file of the CA that signed it`,
    );
  }
  return new IcwsNetworkError(route, code, err.message.split('\n')[0] ?? code);
}

/** A response body as text, failing with IcwsNetworkError past `limit` bytes (the request is destroyed). */
export async function readBody(stream: GotRequest, limit: number, route: string): Promise<string> {
  const body = await readBoundedBody(stream, {
    limit,
    tooLarge: () => new IcwsNetworkError(route, 'ETOOLARGE', `response body over ${limit} bytes (icws.maxMessageBytes)`),
    closedEarly: () => new IcwsNetworkError(route, 'ECONNRESET', 'the connection closed before the end of the answer'),
  });
  return body.toString('utf8');
}

/** The body as JSON, or undefined when it is empty or not JSON (the caller keeps the text for messages). */
export function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One response header's (first) value. */
export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** "icws_<sessionId>=<value>" from the Set-Cookie headers of the login answer. */
export function sessionCookie(setCookie: string | string[] | undefined, sessionId: string): string | undefined {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const pair =
    all.map((c) => c.split(';')[0]!.trim()).find((c) => c.startsWith(`icws_${sessionId}=`)) ??
    all.map((c) => c.split(';')[0]!.trim()).find((c) => c.startsWith('icws_'));
  return pair;
}
