/**
 * The live page's script (dist/page/page.js): src/page bundled with icwatch/client for the browser, one file, no CDN
 * (README, "The live page"). The build writes it; the page's server bundles it in memory only when it runs from the
 * sources and dist/ is older than they are (src/http/page-assets.ts).
 */
import { join } from 'node:path';

export const PAGE_ENTRY = 'src/page/main.ts';
export const PAGE_SCRIPT = 'dist/page/page.js';

/** The bundled script and the files it was made from (relative to root). */
export interface PageBundle {
  script: string;
  inputs: string[];
}

/** The page's script, bundled (esbuild, browser, ES2020, minified). */
export async function bundlePage(root: string): Promise<PageBundle> {
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    entryPoints: [join(root, PAGE_ENTRY)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    write: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return { script: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}
