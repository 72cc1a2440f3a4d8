/** `icwatch doctor`'s last check: the daemon's HTTP address (http.host:http.port) is free, by listening on it and closing. */
import { createServer } from 'node:net';
import type { Config } from '../config/defaults.js';
import { fail, pass, type CheckResult } from './report.js';

export async function checkHttpPort(http: Pick<Config['http'], 'host' | 'port'>): Promise<CheckResult> {
  const where = `${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port}`;
  if (http.port === 0) return pass('http.port is 0: any free port is taken at start');
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: http.host, port: http.port, exclusive: true }, resolve);
    });
    return pass(`${where} is free`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'EADDRINUSE') {
      return fail(
        `${where} is in use by another process (is icwatch already running?)`,
        `see who holds it: ss -ltnp 'sport = :${http.port}'; or set http.port (ICWATCH_HTTP_PORT) to a free port`,
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return fail(
        `${http.host} is not an address of this machine (${code})`,
        'set http.host to one of its addresses, 127.0.0.1, or 0.0.0.0 for every interface',
      );
    }
    if (code === 'EACCES') return fail(`may not listen on ${where} (EACCES)`, 'ports below 1024 need privileges: choose http.port ≥ 1024');
    return fail(`cannot listen on ${where} (${code})`, 'set http.host / http.port to an address and port this machine can listen on');
  } finally {
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
}
