/** A bare ICWS client over fetch for the simulator's tests: nothing of icwatch's own client, so the wire is what is tested. */
import { request } from 'node:http';

export const CONNECT_BODY = {
  __type: 'urn:inin.com:connection:icAuthConnectionRequestSettings',
  applicationName: 'simulator tests',
  userID: 'icwatch',
  password: 'icwatch',
};

export interface RawSession {
  base: string;
  sessionId: string;
  csrfToken: string;
  cookie: string;
  headers: Record<string, string>;
}

export async function connect(base: string, body: Record<string, unknown> = {}): Promise<RawSession> {
  const res = await fetch(`${base}/connection`, {
    method: 'POST',
    headers: { 'Accept-Language': 'en-us', 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...CONNECT_BODY, ...body }),
  });
  if (res.status !== 201) throw new Error(`connect answered ${res.status}: ${await res.text()}`);
  const json = (await res.json()) as { sessionId: string; csrfToken: string };
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  return {
    base,
    sessionId: json.sessionId,
    csrfToken: json.csrfToken,
    cookie,
    headers: { cookie, 'ININ-ICWS-CSRF-Token': json.csrfToken, 'Content-Type': 'application/json' },
  };
}

export function call(s: RawSession, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${s.base}/${s.sessionId}${path}`, { method, headers: s.headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

export const SUBSCRIPTION = '/messaging/subscriptions/configuration/users';

export async function subscribe(s: RawSession, id: string, body: Record<string, unknown>): Promise<Response> {
  return call(s, 'PUT', `${SUBSCRIPTION}/${id}`, { rightsFilter: 'view', ...body });
}

export type Json = any;

export async function poll(s: RawSession): Promise<Json[]> {
  const res = await call(s, 'GET', '/messaging/messages');
  if (res.status !== 200) throw new Error(`poll answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Json[];
}

/** An SSE stream read with node:http: raw lines as they arrive, and the response to close it. */
/** `pauseMs`: the stream is not read for that long at first (a slow reader: the server's socket fills up). */
export function openStream(
  s: RawSession,
  pauseMs = 0,
): Promise<{ status: number; lines: string[]; text: () => string; close: () => void; ended: Promise<void> }> {
  const url = new URL(`${s.base}/${s.sessionId}/messaging/messages`);
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { ...s.headers, Accept: 'text/event-stream' } }, (res) => {
      if (pauseMs) {
        res.pause();
        setTimeout(() => res.resume(), pauseMs);
      }
      // The unfinished line in pieces, joined once it ends (a big full replace is one line of many MB).
      let pending: string[] = [];
      const lines: string[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (!chunk.includes('\n')) return void pending.push(chunk);
        const parts = (pending.join('') + chunk).split('\n');
        pending = [parts.pop()!];
        lines.push(...parts);
      });
      const ended = new Promise<void>((r) => res.on('close', () => r()));
      resolve({ status: res.statusCode!, lines, text: () => lines.join('\n'), close: () => req.destroy(), ended });
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}

/** The JSON messages of an SSE stream's data: lines so far. */
export function streamMessages(lines: string[]): Json[] {
  return lines.filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
}

/** A request with exactly these headers (fetch adds Accept-Language by itself, so it cannot test its absence). */
export function bareRequest(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
