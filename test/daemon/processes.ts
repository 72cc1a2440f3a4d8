/** Child processes for the end-to-end tests: `node bin/icwatch.js …` with ICWATCH_* variables, output captured. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/net.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/icwatch.js', import.meta.url));

/** The parent's environment without any ICWATCH_* variable (a developer's shell must not change a test). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ICWATCH_')) env[k] = v;
  return { ...env, ...extra };
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

export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
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
      waitFor(`output matching ${what}`, () => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}; stdout: ${out.slice(-2000)} stderr: ${err.slice(-2000)}`);
        return (out + err).match(what)?.[0];
      }, timeoutMs),
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
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 20000): Promise<{ code: number | string; stdout: string; stderr: string }> {
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
