/**
 * The process exit codes operators script against (README, "Shutdown, restarts and exit codes"), and how an error
 * says which one it ends the process with. Owned here, below every layer that decides on one: the daemon, the
 * configuration and the ICWS errors use them, and the CLI only returns them.
 */
export const EXIT = {
  ok: 0,
  /** Runtime failure. */
  failure: 1,
  /** Bad command line. */
  usage: 2,
  /** Configuration error, and the 410-Gone case (the API removed the resource): retrying will not help. */
  config: 78,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const CODES: ReadonlySet<number> = new Set(Object.values(EXIT));

/**
 * An error that knows the exit code it ends the process with (set by its class: `readonly exitCode = EXIT.config`).
 * Errors without one are runtime failures.
 */
export interface ErrorWithExitCode extends Error {
  readonly exitCode: ExitCode;
}

function hasExitCode(err: unknown): err is ErrorWithExitCode {
  return err instanceof Error && 'exitCode' in err && typeof err.exitCode === 'number' && CODES.has(err.exitCode);
}

/** The exit code of a fatal error: the one its class carries, else EXIT.failure. */
export function exitCodeOf(err: unknown): ExitCode {
  return hasExitCode(err) ? err.exitCode : EXIT.failure;
}
