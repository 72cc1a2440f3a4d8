/**
 * The CLI and the worker as plain JavaScript (dist/bin/), so that a daemon starts without compiling TypeScript:
 * tsx costs about 1.5 CPU-s and some 30 MiB per process (docs/architecture.md, "Processes"), and a production
 * install has no compiler at all (tsx and esbuild are dev dependencies). bin/icwatch.js runs the bundle only while
 * dist/ matches the sources (bin/dist-freshness.js): an edit is never run stale.
 *
 * Files read at run time (the Lua scripts, package.json, the page) are found from `import.meta.url`; in a bundle that
 * would be the bundle's own URL, so each source's `import.meta.url` is rewritten to that source's location. The
 * package ships those files where the sources have them (package.json `files`: the Lua scripts under src/).
 *
 * The packages are bundled too, not loaded from node_modules at run time: node resolves, reads and wraps each of the
 * ~900 files of rxjs, ioredis, winston, got and the rest one by one (rxjs alone is hundreds of CommonJS files), which
 * cost each process about 0.35 CPU-s before it did anything (the directory bench with 10 users: 1.8 → 1.1 CPU-s for
 * the primary and its worker to start, and the first sync 0.8 s sooner). What the bundle holds of them is what
 * package-lock.json names, so the lock is one of the files the build's manifest hashes (src/build/build.ts).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Plugin } from 'esbuild';

/** dist/bin/: the outputs of one bundle. */
export const BUNDLE_DIR = 'dist/bin';
const ENTRIES = { icwatch: 'src/cli/main.ts', 'worker-main': 'src/cluster/worker-main.ts' };

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

/** Writes dist/bin/{icwatch,worker-main}.mjs and their shared chunks; returns the files they were made from. */
export async function bundleCli(root: string): Promise<string[]> {
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
    // ws's optional native helpers: not installed, and ws runs without them (it tries them in a try/catch).
    external: ['bufferutil', 'utf-8-validate'],
    // The CommonJS packages inside an ES module bundle call require() for node's own modules (and the two above).
    banner: { js: `import { createRequire as __icwatchRequire } from 'node:module'; const require = __icwatchRequire(import.meta.url);` },
    // Tells src/cluster/worker-entry.ts and the start log which form is running.
    define: { __ICWATCH_BUNDLE__: 'true' },
    // Stack traces map back to the sources under `node --enable-source-maps`.
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    plugins: [ownUrlPlugin(outDir)],
  });
  return Object.keys(result.metafile.inputs);
}
