// Whether dist/ is what `npm run build` would write from the sources as they are: the one check, used by
// bin/icwatch.js (which runs dist/ only), by bin/setup.js (which builds before `npm start` and `npm test`), and by
// the page's server when it runs from the sources. The build (src/build/build.ts) writes dist/manifest.json last,
// naming every file it read with the sha256 of its text; dist/ is current while each still has that hash. Hashes,
// not times: a checkout, a copy or a pull touches times without changing a byte. Plain JavaScript with no
// dependency: it runs before any loader and in an install without dev tools.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the build writes last, so that an interrupted build leaves no manifest (dist/ then reads as missing). */
export const MANIFEST = 'dist/manifest.json';
/** The build script: where it is, the sources are (a checkout); an installed package has only dist/. */
export const BUILD_SCRIPT = 'src/build/build.ts';

export function sourceHash(text) {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * dist/ under root, as one of:
 *   { kind: 'current' }                 a checkout whose dist/ was built from its sources as they are
 *   { kind: 'packaged' }                no sources (an installed package): dist/ is what `npm pack` built
 *   { kind: 'missing', sources }        no manifest: never built, or a build that did not finish
 *   { kind: 'stale', source, change }   a checkout where `source` was 'edited' or is 'gone' since the build
 */
export function distFreshness(root) {
  const sources = existsSync(join(root, BUILD_SCRIPT));
  let inputs;
  try {
    inputs = Object.entries(JSON.parse(readFileSync(join(root, MANIFEST), 'utf8'))?.inputs ?? {});
  } catch {
    return { kind: 'missing', sources };
  }
  if (inputs.length === 0) return { kind: 'missing', sources };
  if (!sources) return { kind: 'packaged' };
  for (const [source, hash] of inputs) {
    let text;
    try {
      text = readFileSync(join(root, source));
    } catch {
      return { kind: 'stale', source, change: 'gone' };
    }
    if (sourceHash(text) !== hash) return { kind: 'stale', source, change: 'edited' };
  }
  return { kind: 'current' };
}

/** What is wrong with dist/ (a sentence), or null when icwatch can run from it as it is. */
export function distProblem(freshness) {
  switch (freshness.kind) {
    case 'current':
    case 'packaged':
      return null;
    case 'missing':
      return freshness.sources ? 'dist/ is not built' : 'dist/ is missing from this install';
    case 'stale':
      return `dist/ is older than the sources (${freshness.source} ${freshness.change === 'gone' ? 'is gone' : 'was edited'} since the build)`;
  }
}
