/**
 * The script a worker runs, and how node must be started to run it: the bundled worker beside a bundled primary
 * (src/build/cli-bundle.ts), or the TypeScript source through tsx, as bin/icwatch.js does.
 */
import { fileURLToPath } from 'node:url';
import { runningFrom } from '../util/version.js';
import { CLUSTER_LIMITS } from './limits.js';

const bundled = runningFrom() === 'bundle';

export const workerEntry = {
  // In the bundle, import.meta.url is still this source's location: dist/ sits beside src/.
  file: fileURLToPath(new URL(bundled ? '../../dist/bin/worker-main.mjs' : './worker-main.ts', import.meta.url)),
  /**
   * The primary's node options, plus the tsx loader for the sources unless they already load it (--import=tsx),
   * and the workers' young generation (CLUSTER_LIMITS.workerSemiSpaceMiB) unless node's options size it.
   */
  execArgv(): string[] {
    const own = process.execArgv;
    const semiSpace = [...own, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('semi-space-size'))
      ? []
      : [`--max-semi-space-size=${CLUSTER_LIMITS.workerSemiSpaceMiB}`];
    const loader = bundled || own.some((a) => a.includes('tsx')) ? [] : ['--import', import.meta.resolve('tsx')];
    return [...own, ...semiSpace, ...loader];
  },
};
