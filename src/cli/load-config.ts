/** The CLI's one way to load the configuration: a ConfigError goes to stderr, redacted, and becomes exit 78. */
import type { Config } from '../config/defaults.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig, type LoadOptions } from '../config/load.js';
import { exitCodeOf, type ExitCode } from '../errors/exit-codes.js';
import { redactText } from '../log/redact.js';

/** The configuration, or the exit code after the error was explained on stderr. */
export function loadOrExplain(options: LoadOptions): Config | ExitCode {
  try {
    return loadConfig(options);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`icwatch: configuration error: ${redactText(err.message)}\n`);
    return exitCodeOf(err);
  }
}
