/**
 * bin/setup.js, what `npm start` and `npm test` run first: it installs the dependencies when node_modules does not
 * hold what package-lock.json names, builds dist/ when it is not built or a source changed since the build
 * (bin/dist-freshness.js), and does nothing (and says nothing) when both are current. The whole path on a fresh
 * clone is .ci/fresh-clone (run by .ci/run).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildNeeded, installNeeded } from '../../bin/setup.js';
import { MANIFEST, sourceHash } from '../../bin/dist-freshness.js';
import { ROOT } from '../helpers/processes.js';

describe('bin/setup.js (before npm start and npm test)', function () {
  this.timeout(120000);
  let root: string;
  const write = (file: string, text: string, secondsAgo = 0) => {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), text);
    const at = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(join(root, file), at, at);
  };
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'icwatch-setup-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  describe('installNeeded', () => {
    const lock = (packages: Record<string, object>) => JSON.stringify({ lockfileVersion: 3, packages: { '': { name: 'p' }, ...packages } });
    const a = { version: '1.0.0', resolved: 'https://registry.npmjs.org/a/-/a-1.0.0.tgz' };
    // Another platform's optional package: in the lock file, never installed here.
    const other = { 'node_modules/@esbuild/darwin-arm64': { version: '0.28.2', optional: true } };

    it('asks for an install when node_modules is missing', () => {
      write('package-lock.json', lock({ 'node_modules/a': a }));
      expect(installNeeded(root)).to.equal('node_modules is missing');
    });

    it('is content when the installed tree is what the lock names, even when the lock file is newer (a checkout)', () => {
      write('node_modules/.package-lock.json', lock({ 'node_modules/a': a }), 60);
      write('package-lock.json', lock({ 'node_modules/a': a, ...other }), 0);
      expect(installNeeded(root)).to.equal(null);
    });

    it('asks for an install when the lock names another version, a new package, or no longer an installed one', () => {
      write('node_modules/.package-lock.json', lock({ 'node_modules/a': a }), 60);
      write('package-lock.json', lock({ 'node_modules/a': { ...a, version: '1.0.1' } }));
      expect(installNeeded(root), 'another version').to.equal('package-lock.json changed since the last install');
      write('package-lock.json', lock({ 'node_modules/a': a, 'node_modules/b': { version: '2.0.0' } }));
      expect(installNeeded(root), 'a new package').to.equal('package-lock.json changed since the last install');
      write('package-lock.json', lock({}));
      expect(installNeeded(root), 'a package gone').to.equal('package-lock.json changed since the last install');
    });

    it('does not read the lock files when the install is newer than the lock', () => {
      write('package-lock.json', lock({ 'node_modules/a': a }), 60);
      write('node_modules/.package-lock.json', '{not json', 0);
      expect(installNeeded(root)).to.equal(null);
    });
  });

  describe('buildNeeded', () => {
    // A checkout with sources and a dist/ built from them (bin/dist-freshness.js: the manifest's hashes).
    const built = () => {
      write('src/build/build.ts', '', 60);
      write('src/cli/main.ts', 'export const a = 1;\n', 60);
      write('dist/bin/icwatch.mjs', '', 30);
      write(MANIFEST, JSON.stringify({ inputs: { 'src/build/build.ts': sourceHash(''), 'src/cli/main.ts': sourceHash('export const a = 1;\n') } }), 30);
    };

    it('is content when dist/ was built from the sources as they are', () => {
      built();
      expect(buildNeeded(root)).to.equal(null);
    });

    it('asks for a build when a source differs from the one built, or dist/ is not built', () => {
      built();
      write('src/cli/main.ts', 'export const a = 2;\n');
      expect(buildNeeded(root)).to.equal('dist/ is older than the sources (src/cli/main.ts was edited since the build)');
      built();
      rmSync(join(root, 'dist'), { recursive: true });
      expect(buildNeeded(root)).to.equal('dist/ is not built');
    });

    it('is content when a source was only touched (a checkout), its text the one built', () => {
      built();
      write('src/cli/main.ts', 'export const a = 1;\n');
      expect(buildNeeded(root)).to.equal(null);
    });

    it('builds nothing in an install without the sources', () => {
      expect(buildNeeded(root)).to.equal(null);
      write(MANIFEST, JSON.stringify({ inputs: { 'src/cli/main.ts': sourceHash('') } }));
      expect(buildNeeded(root)).to.equal(null);
    });
  });

  it('installs once on a checkout without node_modules, saying so, and is silent on the next run', () => {
    // A project with one local dependency: npm ci installs it without the registry.
    mkdirSync(join(root, 'bin'));
    for (const file of ['setup.js', 'dist-freshness.js']) copyFileSync(join(ROOT, 'bin', file), join(root, 'bin', file));
    write('dep/package.json', JSON.stringify({ name: 'dep', version: '1.0.0' }));
    write('package.json', JSON.stringify({ name: 'p', version: '1.0.0', private: true, type: 'module', dependencies: { dep: 'file:./dep' } }));
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
    execFileSync(npm[0]!, [...npm.slice(1), 'install', '--package-lock-only', '--no-audit', '--no-fund'], { cwd: root, stdio: 'ignore' });
    expect(existsSync(join(root, 'node_modules'))).to.equal(false);

    const setup = () => spawnSync(process.execPath, [join(root, 'bin/setup.js')], { cwd: root, encoding: 'utf8' });
    const first = setup();
    expect(first.status, first.stderr).to.equal(0);
    expect(first.stderr).to.include('icwatch setup: node_modules is missing: installing the dependencies (npm ci)');
    expect(existsSync(join(root, 'node_modules/dep/package.json'))).to.equal(true);
    const second = setup();
    expect(second.status).to.equal(0);
    expect(second.stderr + second.stdout).to.equal('');
  });
});
