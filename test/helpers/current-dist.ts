/**
 * Mocha's global setup (.mocharc.cjs `require`): the tests spawn bin/icwatch.js, which runs dist/ only. `npm test`
 * builds it first (bin/setup.js, its pretest step); a spec file named to `npx mocha` after an edit gets the same
 * here, so that no test runs a daemon built from other sources.
 */
import { fileURLToPath } from 'node:url';
import { buildIfNeeded } from '../../bin/setup.js';

export function mochaGlobalSetup(): void {
  const status = buildIfNeeded(fileURLToPath(new URL('../../', import.meta.url)));
  if (status !== 0) throw new Error(`the build failed (exit ${status}): see its messages above`);
}
