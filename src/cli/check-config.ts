/** `icwatch check-config`: validate and print the effective configuration (secrets redacted). Exit 0 or 78. */
import { stringify } from 'yaml';
import { printableConfig } from '../config/load.js';
import { EXIT } from '../errors/exit-codes.js';
import { loadOrExplain } from './load-config.js';

export function checkConfigCommand(opts: { config?: string }): number {
  const config = loadOrExplain({ file: opts.config });
  if (typeof config === 'number') return config;
  process.stdout.write(stringify(printableConfig(config)));
  return EXIT.ok;
}
