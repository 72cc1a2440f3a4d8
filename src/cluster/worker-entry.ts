/** The script a worker runs, and how node must be started to run TypeScript sources (tsx, as bin/icwatch.js does). */
import { fileURLToPath } from 'node:url';

export const workerEntry = {
  file: fileURLToPath(new URL('./worker-main.ts', import.meta.url)),
  /** The primary's node options, plus the tsx loader unless they already load it (a test runner's --import=tsx). */
  execArgv(): string[] {
    const own = process.execArgv;
    return own.some((a) => a.includes('tsx')) ? own : [...own, '--import', import.meta.resolve('tsx')];
  },
};
