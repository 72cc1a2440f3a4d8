/**
 * A real reverse proxy for tests: Debian's nginx, started with its own configuration in a temporary folder (pid,
 * logs and temp paths there, `daemon off`, so it is this process's child and needs no root), listening on a free port
 * and routing /api/<name>/icws/… to the ICWS server called <name>, as the vendor's web proxy does
 * (docs/icws.md "Real sites"). Server-sent events pass through unbuffered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './net.js';

/** Where Debian puts it (root's PATH has /usr/sbin, a user's often not). */
export function nginxBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'])) {
    if (dir && existsSync(join(dir, 'nginx'))) return join(dir, 'nginx');
  }
  return undefined;
}

export interface Nginx {
  readonly port: number;
  /** The proxy's base URL of the ICWS server `name`: http://127.0.0.1:<port>/api/<name>/icws */
  url(name: string): string;
  /** The proxy's access log so far: one line per request ("METHOD path status"). */
  accessLog(): string[];
  stop(): Promise<void>;
}

/** `upstreams`: ICWS server name → the base URL of that server (…/icws). */
export async function startNginx(upstreams: Record<string, string>): Promise<Nginx> {
  const bin = nginxBinary();
  if (!bin) throw new Error('nginx is not installed (apt-get install nginx)');
  const dir = mkdtempSync(join(tmpdir(), 'icwatch-nginx-'));
  const port = await freePort();
  const locations = Object.entries(upstreams)
    .map(
      ([name, base]) => `
    location /api/${name}/icws/ {
      proxy_pass ${base.replace(/\/$/, '')}/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # Server-sent events: every byte on at once, and a stream may stay open (pings every few seconds).
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
      # The session cookie's Path (/icws/{sessionId}) as the browser sees it behind the proxy.
      proxy_cookie_path /icws/ /api/${name}/icws/;
    }`,
    )
    .join('\n');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  log_format icwatch '$request_method $uri $status';
  access_log ${dir}/access.log icwatch;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
${locations}
    location / { return 404; }
  }
}
`,
  );
  // -e: the error log from the start (before the configuration is read), so the default /var/log path is never opened.
  const child: ChildProcess = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'nginx to listen',
      () => {
        if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${stderr}${errorLog()}`);
        return new Promise<boolean>((resolve) => {
          const s = connect(port, '127.0.0.1', () => {
            s.destroy();
            resolve(true);
          });
          s.on('error', () => resolve(false));
        });
      },
      20000,
      50,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    url: (name) => `http://127.0.0.1:${port}/api/${name}/icws`,
    accessLog: () => (existsSync(join(dir, 'access.log')) ? readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter(Boolean) : []),
    stop,
  };
}
