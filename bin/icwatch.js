#!/usr/bin/env node
// The package's bin. It runs the JavaScript bundle in dist/bin/ (built by `npm ci` / `npm run build`) while it matches
// the sources, and the TypeScript sources through tsx otherwise, so `npm ci` leaves it runnable and an edit is never
// run stale. ICWATCH_FROM_SOURCES=1 runs the sources whatever the bundle.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freshBundle } from './fresh-bundle.js';

const bundle = process.env.ICWATCH_FROM_SOURCES === '1' ? null : freshBundle(fileURLToPath(new URL('..', import.meta.url)));
let main;
if (bundle) {
  ({ main } = await import(pathToFileURL(bundle).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
