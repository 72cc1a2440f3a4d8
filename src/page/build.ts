/**
 * Builds what icwatch serves and ships (`npm run build`; `prepare` runs it at install and before `npm pack`):
 *   dist/page/page.js   the live page (src/page) bundled with icwatch/client: one file, no CDN, no build at run time
 *   dist/client/…       icwatch/client as JavaScript and .d.ts, what package.json `exports` names
 *   dist/bin/…          the CLI and the worker as JavaScript, which bin/icwatch.js runs while it matches the sources
 * With --if-possible a missing tool or source (a production install, a Docker layer without src/) is a message,
 * not a failure: icwatch then bundles the page in memory on its first request (src/http/page-assets.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUNDLE_DIR, bundleCli } from '../build/cli-bundle.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PAGE_ENTRY = join(ROOT, 'src/page/main.ts');
export const PAGE_BUNDLE = join(ROOT, 'dist/page/page.js');

/** The page's script, bundled (esbuild, browser, ES2020, minified). */
export async function bundlePage(): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [PAGE_ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** icwatch/client as JS + .d.ts in dist/ (tsc with the library's own tsconfig: DOM and ES only, no Node types). */
export function buildClient(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'src/client/tsconfig.json')], { stdio: 'inherit' });
}

async function main(ifPossible: boolean): Promise<void> {
  const say = (line: string): void => void process.stderr.write(`icwatch build: ${line}\n`);
  if (!existsSync(PAGE_ENTRY)) {
    if (ifPossible) return say('no src/page here; skipped');
    throw new Error(`${PAGE_ENTRY} is missing`);
  }
  mkdirSync(dirname(PAGE_BUNDLE), { recursive: true });
  writeFileSync(PAGE_BUNDLE, await bundlePage());
  say(`wrote ${PAGE_BUNDLE}`);
  try {
    buildClient();
    say('wrote dist/client (icwatch/client)');
  } catch (err) {
    if (!ifPossible) throw err;
    say(`icwatch/client not built (${(err as Error).message.split('\n')[0]}); only \`npm pack\` needs it`);
  }
  try {
    say(`wrote ${BUNDLE_DIR} (the CLI from ${await bundleCli(ROOT)} sources)`);
  } catch (err) {
    if (!ifPossible) throw err;
    say(`the CLI bundle not built (${(err as Error).message.split('\n')[0]}); bin/icwatch.js runs the sources`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.includes('--if-possible')).catch((err: unknown) => {
    process.stderr.write(`icwatch build: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
