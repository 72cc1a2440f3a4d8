#!/usr/bin/env node
// What `npm start` and `npm test` run first (the prestart/pretest scripts): on a fresh clone, or after
// package-lock.json changed, it installs the dependencies (`npm ci`, whose `prepare` builds dist/); when dist/ is
// missing or a source changed since the last build (bin/dist-freshness.js), it rebuilds dist/. When everything is
// current it only reads and hashes the sources the build read (a few ms).
// Plain JavaScript with no dependency: it runs before any is installed.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { distFreshness, distProblem } from './dist-freshness.js';

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

/** Why this checkout's dist/ must be built before icwatch runs from it (a sentence), or null: bin/dist-freshness.js. */
export function buildNeeded(root) {
  const freshness = distFreshness(root);
  // An installed package has no sources to build from: bin/icwatch.js says what is wrong with it.
  return freshness.kind === 'stale' || (freshness.kind === 'missing' && freshness.sources) ? distProblem(freshness) : null;
}

function say(line) {
  process.stderr.write(`icwatch setup: ${line}\n`);
}

function run(command, args, root) {
  const { status, error } = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (error) throw error;
  return status;
}

/**
 * Builds dist/ (`npm run build`) when buildNeeded says so; 0, or the build's exit status. A failed build fails `npm
 * start` and `npm test`: bin/icwatch.js runs dist/ only, so going on would only fail later and less clearly.
 */
export function buildIfNeeded(root) {
  const why = buildNeeded(root);
  if (!why) return 0;
  say(`${why}: building it (npm run build)`);
  const status = run(process.execPath, ['--import', 'tsx', 'src/build/build.ts'], root);
  if (status !== 0) say(`the build failed (exit ${status}); see its messages above`);
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
  return buildIfNeeded(root);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main();
