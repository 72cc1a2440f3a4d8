/**
 * dist/ and the one check of whether it is current (bin/dist-freshness.js): bin/icwatch.js runs dist/ only, refuses
 * (exit 78, saying how to build) when it is missing or older than the sources, runs the sources only when asked
 * (ICWATCH_FROM_SOURCES=1, with tsx from the dev dependencies), and a bundled daemon forks the bundled worker and
 * still finds its Lua scripts and its page; the bundle holds the packages it uses.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { distFreshness, distProblem, MANIFEST, sourceHash, type DistManifest } from '../../bin/dist-freshness.js';
import { CLUSTER_LIMITS } from '../../src/cluster/limits.js';
import { waitFor } from '../helpers/net.js';
import { cleanEnv, killAll, ROOT, startIcwatch, startSimulatorProcess, type IcwatchProcess, type SimulatorProcess } from '../helpers/processes.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

describe('dist/ and the CLI bundle', function () {
  this.timeout(90000);

  let root: string;
  const write = (file: string, text: string) => {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), text);
  };
  const manifest = (inputs: Record<string, string>) => write(MANIFEST, JSON.stringify({ inputs }));
  /** A checkout: the build script and one source. */
  const checkout = () => {
    write('src/build/build.ts', '');
    write('src/a.ts', 'export const a = 1;\n');
  };

  describe('distFreshness', () => {
    beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'icwatch-dist-'))));
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('is current in a checkout while every file the build read has the hash the manifest names', () => {
      checkout();
      manifest({ 'src/a.ts': sourceHash('export const a = 1;\n'), 'src/build/build.ts': sourceHash('') });
      expect(distFreshness(root)).to.deep.equal({ kind: 'current' });
      expect(distProblem(distFreshness(root))).to.equal(null);
    });

    it('is stale when a source is edited or gone, and missing without a manifest (or with an empty or unreadable one)', () => {
      checkout();
      expect(distFreshness(root), 'no manifest').to.deep.equal({ kind: 'missing', sources: true });
      expect(distProblem(distFreshness(root))).to.equal('dist/ is not built');
      manifest({});
      expect(distFreshness(root), 'empty manifest').to.deep.equal({ kind: 'missing', sources: true });
      manifest({ 'src/a.ts': sourceHash('export const a = 1;\n') });
      write('src/a.ts', 'export const a = 2;\n');
      expect(distFreshness(root), 'edited').to.deep.equal({ kind: 'stale', source: 'src/a.ts', change: 'edited' });
      expect(distProblem(distFreshness(root))).to.equal('dist/ is older than the sources (src/a.ts was edited since the build)');
      manifest({ 'src/a.ts': sourceHash('export const a = 2;\n'), 'src/b.ts': sourceHash('') });
      expect(distFreshness(root), 'a source gone').to.deep.equal({ kind: 'stale', source: 'src/b.ts', change: 'gone' });
      write(MANIFEST, '{not json');
      expect(distFreshness(root), 'unreadable manifest').to.deep.equal({ kind: 'missing', sources: true });
    });

    it('trusts dist/ in an install without the sources (a package), and says when it has none', () => {
      manifest({ 'src/a.ts': sourceHash('export const a = 1;\n') });
      expect(distFreshness(root)).to.deep.equal({ kind: 'packaged' });
      rmSync(join(root, MANIFEST));
      expect(distFreshness(root)).to.deep.equal({ kind: 'missing', sources: false });
      expect(distProblem(distFreshness(root))).to.equal('dist/ is missing from this install');
    });
  });

  describe('bin/icwatch.js', () => {
    // bin/icwatch.js and its check, copied into a checkout of their own (no node_modules: no tsx either).
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'icwatch-bin-'));
      mkdirSync(join(root, 'bin'));
      for (const file of ['icwatch.js', 'dist-freshness.js']) copyFileSync(join(ROOT, 'bin', file), join(root, 'bin', file));
      write('package.json', JSON.stringify({ name: 'icwatch', type: 'module', private: true }));
      checkout();
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));
    const icwatch = (env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [join(root, 'bin/icwatch.js'), '--version'], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });

    it('refuses a dist/ that is not built or older than the sources: exit 78, saying how to build it', () => {
      const missing = icwatch();
      expect(missing.status).to.equal(78);
      expect(missing.stderr).to.match(/^icwatch: dist\/ is not built: build it with `npm run build`.*`npm run dev -- <arguments>`/);
      manifest({ 'src/a.ts': sourceHash('export const a = 0;\n') });
      const stale = icwatch();
      expect(stale.status).to.equal(78);
      expect(stale.stderr).to.include('icwatch: dist/ is older than the sources (src/a.ts was edited since the build): build it with `npm run build`');
    });

    it('runs dist/ when it is current, without reading a source', () => {
      manifest({ 'src/a.ts': sourceHash('export const a = 1;\n') });
      write('dist/bin/icwatch.mjs', 'export async function main(argv) { console.log(`dist ${argv.join(" ")}`); return 3; }\n');
      const ran = icwatch();
      expect(ran.stdout).to.equal('dist --version\n');
      expect(ran.status).to.equal(3);
    });

    it('says that the sources need tsx, a dev dependency, when ICWATCH_FROM_SOURCES=1 finds none', () => {
      write('src/cli/main.ts', 'export async function main(): Promise<number> { return 0; }\n');
      const ran = icwatch({ ICWATCH_FROM_SOURCES: '1' });
      expect(ran.status).to.equal(78);
      expect(ran.stderr).to.include('icwatch: ICWATCH_FROM_SOURCES=1 runs the TypeScript sources through tsx, a dev dependency, which is not installed');
    });
  });

  describe('icwatch run', () => {
    let sim: SimulatorProcess;
    let icwatch: IcwatchProcess | undefined;
    let prefix: string;
    let redis: Redis;

    before(async () => {
      redis = new Redis(SHARED_REDIS_URL);
      // What `npm ci` and `npm run build` leave; rebuilt before the tests when a source was edited since
      // (test/helpers/current-dist.ts).
      expect(distFreshness(ROOT)).to.deep.equal({ kind: 'current' });
      sim = await startSimulatorProcess({ users: 5 });
    });
    beforeEach(() => (prefix = uniquePrefix('bundle')));
    afterEach(async () => {
      await icwatch?.stop();
      icwatch = undefined;
      await dropPrefix(redis, prefix);
    });
    after(async () => {
      killAll();
      await redis.quit();
    });

    const run = async (env: Record<string, string> = {}) => {
      icwatch = await startIcwatch({
        ICWATCH_REDIS_URL: SHARED_REDIS_URL,
        ICWATCH_REDIS_KEY_PREFIX: prefix,
        ICWATCH_ICWS_URL: sim.url,
        ICWATCH_ICWS_PASSWORD: 'icwatch',
        ...env,
      });
      await waitFor('icwatch ready', async () => (await icwatch!.get('/readyz')).status === 200, 30000, 100);
      const pid = Number((await icwatch.waitForOutput(/worker 1 \(pid \d+\) serves port/)).match(/pid (\d+)/)![1]);
      return { runs: /"runs":"(\w+)"/.exec(icwatch.stdout())?.[1], worker: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') };
    };

    it('runs the bundle and its bundled worker when fresh, with the mirror written and the page served', async () => {
      const { runs, worker } = await run();
      expect(runs).to.equal('bundle');
      expect(worker.some((a) => a.endsWith('dist/bin/worker-main.mjs'))).to.equal(true);
      expect(worker.join(' ')).not.to.match(/tsx/);
      expect(worker, 'the young generation of the workers').to.include(`--max-semi-space-size=${CLUSTER_LIMITS.workerSemiSpaceMiB}`);
      // The Lua scripts (read beside their source) applied the directory, and the page's assets are found.
      expect((await icwatch!.get('/v1/users')).text).to.match(/"configurationId"/);
      expect((await icwatch!.get('/')).status).to.equal(200);
    });

    it('needs no package at run time: a copy of what the package ships, without node_modules, runs the daemon', async () => {
      // The bundle holds the packages package-lock.json names, so the lock is one of the files dist/ is current with.
      expect(Object.keys((JSON.parse(readFileSync(join(ROOT, MANIFEST), 'utf8')) as DistManifest).inputs)).to.include('package-lock.json');
      const copy = mkdtempSync(join(tmpdir(), 'icwatch-shipped-'));
      try {
        for (const shipped of ['bin/icwatch.js', 'bin/dist-freshness.js', 'package.json', 'dist', 'config'])
          cpSync(join(ROOT, shipped), join(copy, shipped), { recursive: true });
        cpSync(join(ROOT, 'src'), join(copy, 'src'), { recursive: true, filter: (from) => !/\.\w+$/.test(from) || from.endsWith('.lua') });
        const child = spawn(process.execPath, [join(copy, 'bin/icwatch.js'), 'run'], {
          cwd: copy,
          env: cleanEnv({
            ICWATCH_HTTP_PORT: '0',
            ICWATCH_HTTP_HOST: '127.0.0.1',
            ICWATCH_REDIS_URL: SHARED_REDIS_URL,
            ICWATCH_REDIS_KEY_PREFIX: prefix,
            ICWATCH_ICWS_URL: sim.url,
            ICWATCH_ICWS_PASSWORD: 'icwatch',
          }),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
        try {
          const base = await waitFor(
            'the copy serving HTTP',
            () => {
              if (child.exitCode !== null) throw new Error(`the copy exited ${child.exitCode}: ${out.slice(-2000)}`);
              return /HTTP on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
            },
            30000,
            50,
          );
          await waitFor('the copy ready', async () => (await fetch(`${base}/readyz`)).status === 200, 30000, 100);
          expect(await (await fetch(`${base}/v1/users`)).text()).to.match(/"configurationId"/);
          expect(out).to.include('"runs":"bundle"');
        } finally {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((resolve) => child.once('exit', resolve));
            child.kill('SIGTERM');
            await exited;
          }
        }
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });

    it('runs the sources through tsx when asked (ICWATCH_FROM_SOURCES=1)', async () => {
      // node's own options size the young generation: the workers keep them.
      const { runs, worker } = await run({ ICWATCH_FROM_SOURCES: '1', NODE_OPTIONS: '--max-semi-space-size=8' });
      expect(runs).to.equal('sources');
      expect(worker.some((a) => a.endsWith('src/cluster/worker-main.ts'))).to.equal(true);
      expect(worker.join(' ')).not.to.include('--max-semi-space-size');
    });
  });
});
