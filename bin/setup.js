#!/usr/bin/env node
// What `npm start` and `npm test` run first (the prestart/pretest scripts): on a fresh clone, or after
// package-lock.json changed, it installs the dependencies (`npm ci`, whose `prepare` builds dist/); when a source
// changed since the last build, it rebuilds dist/. When everything is current it only reads a few files (a few ms).
// Plain JavaScript with no dependency: it runs before any is installed.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freshBundle } from './fresh-bundle.js';

const mtime = (file) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
};

/** Why node_modules does not hold what package-lock.json names (a sentence), or null when it does. */
export function installNeeded(root) {
  const lockFile = join(root, 'package-lock.json');
  // npm writes node_modules/.package-lock.json (the installed tree) at the end of every install.
  const installedFile = join(root, 'node_modules/.package-lock.json');
  const installedAt = mtime(installedFile);
  if (installedAt === undefined) return 'node_modules is missing';
  if ((mtime(lockFile) ?? 0) <= installedAt) return null;
  // The lock file is newer: a pull that changed it, or only a checkout after the install. Compare what they name.
  let lock, installed;
  try {
    lock = JSON.parse(readFileSync(lockFile, 'utf8')).packages ?? {};
    installed = JSON.parse(readFileSync(installedFile, 'utf8')).packages ?? {};
  } catch {
    return 'node_modules/.package-lock.json or package-lock.json is unreadable';
  }
  for (const [path, pkg] of Object.entries(lock)) {
    if (path === '') continue; // the project itself
    const have = installed[path];
    // Optional packages for other platforms (esbuild's, fsevents) are never installed here.
    if (!have && (pkg.optional || pkg.devOptional)) continue;
    if (!have || have.version !== pkg.version || have.resolved !== pkg.resolved) return 'package-lock.json changed since the last install';
  }
  for (const path of Object.keys(installed)) if (!(path in lock)) return 'package-lock.json changed since the last install';
  return null;
}

/** The newest .ts under the given folders (not recursive: the page, the client and util are flat). */
function newestSource(root, dirs) {
  let newest = 0;
  for (const dir of dirs) {
    let names;
    try {
      names = readdirSync(join(root, dir));
    } catch {
      continue;
    }
    for (const name of names) if (name.endsWith('.ts')) newest = Math.max(newest, mtime(join(root, dir, name)) ?? 0);
  }
  return newest;
}

/**
 * True when dist/bin/manifest.json is newer than every source it names: then the bundle matches them without reading
 * them (a fifth of the time of hashing them). When not, freshBundle compares their hashes, as bin/icwatch.js does.
 */
function bundleNewerThanSources(root) {
  const file = join(root, 'dist/bin/manifest.json');
  const builtAt = mtime(file);
  let inputs;
  try {
    inputs = Object.keys(JSON.parse(readFileSync(file, 'utf8'))?.inputs ?? {});
  } catch {
    return false;
  }
  return inputs.length > 0 && inputs.every((input) => (mtime(join(root, input)) ?? Infinity) <= builtAt);
}

/** Why dist/ is not what `npm run build` would write now (a sentence), or null when it is. */
export function buildNeeded(root) {
  if (mtime(join(root, 'src/page/build.ts')) === undefined) return null; // an install without the sources
  if (!bundleNewerThanSources(root) && !freshBundle(root)) return 'dist/bin is missing or older than the sources';
  // The same test as src/http/page-assets.ts for the page; icwatch/client is built from a subset of those sources.
  const built = Math.min(mtime(join(root, 'dist/page/page.js')) ?? 0, mtime(join(root, 'dist/client/index.js')) ?? 0);
  if (built < newestSource(root, ['src/page', 'src/client', 'src/util'])) return 'dist/page or dist/client is missing or older than the sources';
  return null;
}

function say(line) {
  process.stderr.write(`icwatch setup: ${line}\n`);
}

function run(command, args, root) {
  const { status, error } = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (error) throw error;
  return status;
}

function main() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const why = installNeeded(root);
  if (why) {
    say(`${why}: installing the dependencies (npm ci)`);
    const major = Number(process.versions.node.split('.')[0]);
    if (major < 22) say(`note: Node ${process.versions.node} is past its end of life; icwatch targets Node 24 (README, "Dependencies")`);
    // The npm that runs this script (npm_execpath) when there is one, so that it installs with the same Node.
    const npm = process.env.npm_execpath;
    const args = ['ci', '--no-audit', '--no-fund'];
    const status = npm ? run(process.execPath, [npm, ...args], root) : run('npm', args, root);
    if (status !== 0) {
      say(`npm ci failed (exit ${status}); see its messages above`);
      return 1;
    }
  }
  const stale = buildNeeded(root);
  if (stale) {
    say(`${stale}: building it (npm run build)`);
    // --if-possible: a failed build is a message, not a failure; bin/icwatch.js then runs the sources through tsx and
    // the page is bundled in memory, so the build problem does not stop the demo or the tests.
    run(process.execPath, ['--import', 'tsx', 'src/page/build.ts', '--if-possible'], root);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main();
