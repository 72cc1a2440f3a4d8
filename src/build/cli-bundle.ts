/**
 * The CLI and the worker as plain JavaScript (dist/bin/), so that a daemon starts without compiling TypeScript:
 * tsx costs about 1.5 CPU-s and some 30 MiB per process (docs/architecture.md, "Processes"). bin/icwatch.js runs
 * the bundle only while dist/bin/manifest.json matches the sources, and the sources through tsx otherwise: an edit
 * never runs stale code.
 *
 * Files read at run time (the Lua scripts, package.json, the page) are found from `import.meta.url`; in a bundle that
 * would be the bundle's own URL, so each source's `import.meta.url` is rewritten to that source's location.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Plugin } from 'esbuild';

/** dist/bin/: the outputs of one bundle and its manifest. */
export const BUNDLE_DIR = 'dist/bin';
export const MANIFEST = 'manifest.json';
const ENTRIES = { icwatch: 'src/cli/main.ts', 'worker-main': 'src/cluster/worker-main.ts' };

/** What bin/fresh-bundle.js compares: each source the bundle holds, by the sha256 of its text. */
export interface BundleManifest {
  inputs: Record<string, string>;
}

export function sourceHash(text: Buffer | string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `import.meta.url` of a source, as seen from a file in dist/bin/. */
function ownUrlPlugin(outDir: string): Plugin {
  return {
    name: 'icwatch-own-url',
    setup(build) {
      build.onLoad({ filter: /\/src\/.*\.ts$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        const fromBundle = relative(outDir, args.path).split('\\').join('/');
        const own = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
        return { contents: text.replaceAll('import.meta.url', own), loader: 'ts', resolveDir: join(args.path, '..') };
      });
    },
  };
}

/** Writes dist/bin/{icwatch,worker-main}.mjs, their shared chunks and the manifest; returns how many sources. */
export async function bundleCli(root: string): Promise<number> {
  const { build } = await import('esbuild');
  const outDir = join(root, BUNDLE_DIR);
  rmSync(outDir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: ENTRIES,
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    // Chunks beside the entries: every output is one folder below dist/, which the rewritten URLs assume.
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // Tells src/cluster/worker-entry.ts and the start log which form is running.
    define: { __ICWATCH_BUNDLE__: 'true' },
    // Stack traces map back to the sources under `node --enable-source-maps`.
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    plugins: [ownUrlPlugin(outDir)],
  });
  const inputs: Record<string, string> = {};
  for (const file of Object.keys(result.metafile.inputs).sort()) inputs[file] = sourceHash(readFileSync(join(root, file)));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, MANIFEST), `${JSON.stringify({ inputs } satisfies BundleManifest, null, 1)}\n`);
  return Object.keys(inputs).length;
}
