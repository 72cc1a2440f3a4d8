/**
 * The CLI bundle (src/build/cli-bundle.ts): bin/icwatch.js runs dist/bin while it matches every source it was built
 * from and the sources through tsx as soon as one differs, and a bundled daemon forks the bundled worker and still
 * finds its Lua scripts and its page.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { freshBundle } from '../../bin/fresh-bundle.js';
import { bundleCli, sourceHash } from '../../src/build/cli-bundle.js';
import { CLUSTER_LIMITS } from '../../src/cluster/limits.js';
import { waitFor } from '../helpers/net.js';
import { killAll, ROOT, startIcwatch, startSimulatorProcess, type IcwatchProcess, type SimulatorProcess } from '../helpers/processes.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

describe('the CLI bundle', function () {
  this.timeout(90000);

  describe('freshBundle', () => {
    let root: string;
    const manifest = (inputs: Record<string, string>) => {
      mkdirSync(join(root, 'dist/bin'), { recursive: true });
      writeFileSync(join(root, 'dist/bin/manifest.json'), JSON.stringify({ inputs }));
    };
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'icwatch-bundle-'));
      mkdirSync(join(root, 'src'));
      writeFileSync(join(root, 'src/a.ts'), 'export const a = 1;\n');
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('names the bundle while every source matches the manifest', () => {
      manifest({ 'src/a.ts': sourceHash('export const a = 1;\n') });
      expect(freshBundle(root)).to.equal(join(root, 'dist/bin/icwatch.mjs'));
    });

    it('falls back to the sources when one is edited, gone, or the manifest is missing or empty', () => {
      expect(freshBundle(root), 'no manifest').to.equal(null);
      manifest({});
      expect(freshBundle(root), 'empty manifest').to.equal(null);
      manifest({ 'src/a.ts': sourceHash('export const a = 1;\n') });
      writeFileSync(join(root, 'src/a.ts'), 'export const a = 2;\n');
      expect(freshBundle(root), 'edited').to.equal(null);
      manifest({ 'src/a.ts': sourceHash('export const a = 2;\n'), 'src/b.ts': sourceHash('') });
      expect(freshBundle(root), 'a source gone').to.equal(null);
      writeFileSync(join(root, 'dist/bin/manifest.json'), '{not json');
      expect(freshBundle(root), 'unreadable manifest').to.equal(null);
    });
  });

  describe('icwatch run', () => {
    let sim: SimulatorProcess;
    let icwatch: IcwatchProcess | undefined;
    let prefix: string;
    let redis: Redis;

    before(async () => {
      redis = new Redis(SHARED_REDIS_URL);
      // What `npm ci` and `npm run build` leave; rebuilt here when a source was edited since.
      if (!freshBundle(ROOT)) await bundleCli(ROOT);
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

    it('runs the sources through tsx when asked (ICWATCH_FROM_SOURCES=1)', async () => {
      // node's own options size the young generation: the workers keep them.
      const { runs, worker } = await run({ ICWATCH_FROM_SOURCES: '1', NODE_OPTIONS: '--max-semi-space-size=8' });
      expect(runs).to.equal('sources');
      expect(worker.some((a) => a.endsWith('src/cluster/worker-main.ts'))).to.equal(true);
      expect(worker.join(' ')).not.to.include('--max-semi-space-size');
    });
  });
});
