/** `icwatch check-config`: validate and print the effective configuration (secrets redacted). Exit 0 or 78. */
import { stringify } from 'yaml';
import { ConfigError } from '../config/errors.js';
import { loadConfig, redactConfig } from '../config/load.js';
import { EXIT } from './exit-codes.js';

export async function checkConfigCommand(opts: { config?: string }): Promise<number> {
  try {
    const config = loadConfig({ file: opts.config });
    process.stdout.write(stringify(redactConfig(config)));
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`icwatch: configuration error: ${err.message}\n`);
      return EXIT.config;
    }
    throw err;
  }
}
