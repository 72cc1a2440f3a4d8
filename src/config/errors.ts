/** A configuration value is wrong. `key` is the dotted key (e.g. `http.port`); the daemon exits 78 on it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly key: string,
    readonly problem: string,
    readonly source = 'configuration',
  ) {
    super(`${key}: ${problem} (from ${source})`);
  }
}
