/**
 * The script a worker runs, and how node must be started to run it: the bundled worker beside a bundled primary
 * (src/build/cli-bundle.ts), or the TypeScript source through tsx, as bin/icwatch.js does.
 */
import { fileURLToPath } from 'node:url';
import { runningFrom } from '../daemon/version.js';

const bundled = runningFrom() === 'bundle';

export const workerEntry = {
  // In the bundle, import.meta.url is still this source's location: dist/ sits beside src/.
  file: fileURLToPath(new URL(bundled ? '../../dist/bin/worker-main.mjs' : './worker-main.ts', import.meta.url)),
  /** The primary's node options, plus the tsx loader for the sources unless they already load it (--import=tsx). */
  execArgv(): string[] {
    const own = process.execArgv;
    return bundled || own.some((a) => a.includes('tsx')) ? own : [...own, '--import', import.meta.resolve('tsx')];
  },
};
