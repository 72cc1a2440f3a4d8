/** Child processes for the end-to-end tests: `node bin/icwatch.js …` with ICWATCH_* variables, output captured. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from './net.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/icwatch.js', import.meta.url));

/** The parent's environment without any ICWATCH_* variable (a developer's shell must not change a test). */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ICWATCH_')) env[k] = v;
  // An extra variable given as undefined is removed.
  for (const [k, v] of Object.entries(extra))
    if (v === undefined) delete env[k];
    else env[k] = v;
  return env;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number style string for a signal). */
  readonly exited: Promise<number | string>;
  waitForOutput(what: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` and waits for the exit; SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

const running = new Set<ChildProcess>();

/** `icwatch …` as a child process. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput: (what, timeoutMs = 20000) =>
      waitFor(
        `output matching ${what}`,
        () => {
          if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}; stdout: ${out.slice(-2000)} stderr: ${err.slice(-2000)}`);
          return (out + err).match(what)?.[0];
        },
        timeoutMs,
      ),
    stop: async (signal = 'SIGTERM', timeoutMs = 15000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs a command to its end. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 20000,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = startCli(args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** For after-hooks: kill whatever a failed test left running. */
export function killAll(): void {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

export interface SimulatorProcess extends CliProcess {
  readonly port: number;
  /** Base URL ending in /icws. */
  readonly url: string;
  /** GET/POST on the control API (/_sim/…), JSON in and out. */
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

/** `icwatch simulate` as a child process on `port` (a free one by default), ready when its control API answers. */
export async function startSimulatorProcess(
  options: { port?: number; users?: number; seed?: number; password?: string; readyTimeoutMs?: number } = {},
): Promise<SimulatorProcess> {
  const port = options.port ?? (await freePort());
  const args = [
    '--port',
    String(port),
    '--users',
    String(options.users ?? 20),
    '--churn',
    '0',
    // Quiet unless a test churns: a status change moves the seq as a user change does.
    '--status-churn',
    '0',
    '--seed',
    String(options.seed ?? 1),
    '--password',
    options.password ?? 'icwatch',
  ];
  const p = startCli(['simulate', ...args]);
  const base = `http://127.0.0.1:${port}`;
  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}/_sim/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} /_sim/${path} answered ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  };
  await waitFor(
    'the simulator to answer',
    async () => {
      if (p.child.exitCode !== null) throw new Error(`the simulator exited ${p.child.exitCode}: ${p.stderr()}`);
      return (await fetch(`${base}/_sim/sessions`)).ok;
    },
    options.readyTimeoutMs ?? 20000,
    100,
  );
  return { ...p, port, url: `${base}/icws`, control };
}

export interface IcwatchProcess extends CliProcess {
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly base: string;
  /** GET with the first of ICWATCH_WEBSOCKET_TOKENS, if any, as a bearer token (/metrics and /v1/status need it then). */
  get(path: string): Promise<{ status: number; text: string }>;
}

/**
 * `icwatch run` as a child process on a free HTTP port, waiting for nothing: for a run meant to end on its own. A
 * fatal error at start (410 Gone, a refused subscription) may stop the primary before any worker says it listens.
 */
export function spawnIcwatch(env: Record<string, string>, args: string[] = ['run']): CliProcess {
  return startCli(args, { ICWATCH_HTTP_PORT: '0', ICWATCH_HTTP_HOST: '127.0.0.1', ...env });
}

/** `icwatch run` as a child process on a free HTTP port; resolves once its HTTP server listens. */
export async function startIcwatch(env: Record<string, string>, args: string[] = ['run']): Promise<IcwatchProcess> {
  const p = spawnIcwatch(env, args);
  // Generous: a loaded machine stretches the start (two processes loading their sources through tsx) many times over.
  const line = await p.waitForOutput(/HTTP on http:\/\/127\.0\.0\.1:\d+/, 60000);
  const port = Number(/:(\d+)$/.exec(line)![1]);
  const base = `http://127.0.0.1:${port}`;
  const token = env.ICWATCH_WEBSOCKET_TOKENS?.split(',')[0]?.trim();
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, text: await res.text() };
  };
  return { ...p, port, base, get };
}

/** The sample value of a metric series in Prometheus text (`name{labels} value`), 0 when absent. */
export function metricValue(text: string, series: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return 0;
}

/**
 * Waits until icwatch counts `users` users with a status (icwatch_presence_users). With presence, the statuses
 * replace follows the users' full replace (after the status subscription's PUT) and may land after a moment of quiet:
 * a test comparing a client with the mirror, or expecting seq to stay put, waits for it first.
 */
export async function everyStatusMirrored(icwatch: IcwatchProcess, users: number, timeoutMs = 30000): Promise<void> {
  const count = async () => metricValue((await icwatch.get('/metrics')).text, 'icwatch_presence_users');
  await waitFor(`${users} users with a status`, async () => (await count()) === users, timeoutMs, 100);
}
