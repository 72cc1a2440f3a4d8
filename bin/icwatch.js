#!/usr/bin/env node
// The package's bin. It runs the JavaScript in dist/ (src/build/build.ts: `npm run build`, and `npm ci` and
// `npm pack` through `prepare`), never a compiler: tsx and esbuild are dev dependencies. In a checkout it first checks
// that dist/ was built from the sources as they are (bin/dist-freshness.js) and otherwise says so and exits 78 rather
// than run stale code. ICWATCH_FROM_SOURCES=1 (`npm run dev -- <arguments>`) runs the TypeScript sources through tsx,
// which needs the dev dependencies. README, "Development".
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { distFreshness, distProblem } from './dist-freshness.js';

// A problem with the installation, not the moment: restarting will not help (README, "Shutdown, restarts and exit codes").
const EXIT_CONFIG = 78;
const root = fileURLToPath(new URL('..', import.meta.url));
const refuse = (line) => {
  process.stderr.write(`icwatch: ${line}\n`);
  return null;
};

/** icwatch's main(argv) from dist/, or from the sources when asked; null (having said why) when neither can run. */
async function loadMain() {
  if (process.env.ICWATCH_FROM_SOURCES !== '1') {
    const freshness = distFreshness(root);
    const problem = distProblem(freshness);
    if (problem && freshness.kind === 'missing' && !freshness.sources)
      return refuse(`${problem}: install icwatch from a tarball made by \`npm pack\`, which builds it`);
    if (problem)
      return refuse(`${problem}: build it with \`npm run build\` (npm start and npm test do), or run the sources with \`npm run dev -- <arguments>\``);
    return (await import(pathToFileURL(join(root, 'dist/bin/icwatch.mjs')).href)).main;
  }
  const sources = join(root, 'src/cli/main.ts');
  if (!existsSync(sources)) return refuse('ICWATCH_FROM_SOURCES=1 runs the TypeScript sources, which only a checkout has (src/cli/main.ts is not here)');
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    return refuse(
      'ICWATCH_FROM_SOURCES=1 runs the TypeScript sources through tsx, a dev dependency, which is not installed: run `npm ci` (without --omit=dev)',
    );
  }
  tsx.register();
  return (await import(pathToFileURL(sources).href)).main;
}

const main = await loadMain();
process.exitCode = main ? await main(process.argv.slice(2)) : EXIT_CONFIG;
