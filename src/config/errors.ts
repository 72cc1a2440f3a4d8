/** A configuration value is wrong. `key` is the dotted key (e.g. `http.port`); the process exits 78 on it. */
import { EXIT } from '../errors/exit-codes.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly exitCode = EXIT.config;
  constructor(
    readonly key: string,
    readonly problem: string,
    readonly source = 'configuration',
  ) {
    super(`${key}: ${problem} (from ${source})`);
  }
}
