/**
 * The one build (`npm run build`; `prepare` runs it on `npm ci` in a checkout and before `npm pack`). It writes dist/
 * from nothing:
 *   dist/page/page.js   the live page (src/page) bundled with icwatch/client: one file, no build at run time
 *   dist/client/…       icwatch/client as JavaScript and .d.ts, what package.json `exports` names
 *   dist/bin/…          the CLI and the worker as JavaScript, what bin/icwatch.js runs
 *   dist/manifest.json  last: every file the build read, with the sha256 of its text (bin/dist-freshness.js)
 * Run with tsx, from the dev dependencies: a production install runs dist/ and has no compiler.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUILD_SCRIPT, MANIFEST, sourceHash, type DistManifest } from '../../bin/dist-freshness.js';
import { BUNDLE_DIR, bundleCli } from './cli-bundle.js';
import { buildClientLibrary, CLIENT_TSCONFIG } from './client-library.js';
import { bundlePage, PAGE_SCRIPT } from './page-bundle.js';

const PACKAGE_LOCK = 'package-lock.json';

/**
 * The build's own files, and package-lock.json, since the CLI bundle holds the packages it names
 * (src/build/cli-bundle.ts): an edit to one makes dist/ stale too.
 */
function buildInputs(root: string): string[] {
  const dir = dirname(BUILD_SCRIPT);
  const own = readdirSync(join(root, dir))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `${dir}/${name}`);
  const lock = existsSync(join(root, PACKAGE_LOCK)) ? [PACKAGE_LOCK] : [];
  return [...own, CLIENT_TSCONFIG, ...lock];
}

/** The project's own files: packages (node_modules, wherever it resolves) change only with package-lock.json. */
const ownFile = (file: string): boolean => !file.startsWith('..') && !file.split('/').includes('node_modules');

/** Writes dist/ under root; returns the manifest it wrote last. */
export async function build(root: string, say: (line: string) => void = () => {}): Promise<DistManifest> {
  const dist = join(root, 'dist');
  // From nothing: no output of an earlier build (a module since removed) is left to be packed, and an interrupted
  // build leaves no manifest, so dist/ reads as not built.
  rmSync(dist, { recursive: true, force: true });
  const read = new Set(buildInputs(root));

  const page = await bundlePage(root);
  mkdirSync(join(root, dirname(PAGE_SCRIPT)), { recursive: true });
  writeFileSync(join(root, PAGE_SCRIPT), page.script);
  page.inputs.forEach((file) => read.add(file));
  say(`wrote ${PAGE_SCRIPT} (the live page, ${page.inputs.filter(ownFile).length} sources)`);

  const client = buildClientLibrary(root);
  client.forEach((file) => read.add(file));
  say(`wrote dist/client (icwatch/client, ${client.filter(ownFile).length} sources)`);

  const cli = await bundleCli(root);
  cli.forEach((file) => read.add(file));
  say(`wrote ${BUNDLE_DIR} (the CLI and the worker, ${cli.filter(ownFile).length} sources)`);

  const inputs: Record<string, string> = {};
  for (const file of [...read].filter(ownFile).sort()) inputs[file] = sourceHash(readFileSync(join(root, file)));
  const manifest: DistManifest = { inputs };
  writeFileSync(join(root, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  say(`wrote ${MANIFEST} (${Object.keys(inputs).length} files)`);
  return manifest;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  build(root, (line) => process.stderr.write(`icwatch build: ${line}\n`)).catch((err: unknown) => {
    process.stderr.write(`icwatch build: failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
