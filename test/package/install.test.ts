/**
 * The package as an operator installs it: `npm pack` (whose `prepare` builds dist/) makes a tarball that holds what
 * icwatch runs and not what only development needs; `npm install --omit=dev` of that tarball in an empty project
 * installs no compiler (tsx, esbuild), and its `icwatch demo` serves the page and turns ready, then stops on
 * SIGTERM with exit 0. README, "Development".
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { redisAnswersAt } from '../../src/cli/demo.js';
import { waitFor } from '../helpers/net.js';
import { cleanEnv, ROOT } from '../helpers/processes.js';

const run = promisify(execFile);
// The npm that runs the tests (npm_execpath under `npm test`), so that it installs with the same Node.
const npm = (args: string[], cwd: string) =>
  process.env.npm_execpath
    ? run(process.execPath, [process.env.npm_execpath, ...args], { cwd, maxBuffer: 16 * 1024 * 1024 })
    : run('npm', args, { cwd, maxBuffer: 16 * 1024 * 1024 });

describe('the package installed from its tarball', function () {
  // A pack (a build), an install from npm's cache or the registry, and a demo's start: about a minute.
  this.timeout(240000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'icwatch-install-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('packs dist/ and no sources, installs without a compiler, and its icwatch demo serves and stops on SIGTERM', async () => {
    const { stdout } = await npm(['pack', '--json', '--pack-destination', dir], ROOT);
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
    const files = packed.files.map((f) => f.path);
    for (const file of [
      'bin/icwatch.js',
      'dist/manifest.json',
      'dist/bin/icwatch.mjs',
      'dist/bin/worker-main.mjs',
      'dist/page/page.js',
      'dist/client/index.d.ts',
    ])
      expect(files, 'what icwatch runs').to.include(file);
    for (const file of ['config/default.yaml', 'README.md', 'package.json', 'src/mirror/lua/apply.lua']) expect(files, 'what it reads').to.include(file);
    const development = files
      .filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts'))
      .concat(files.filter((file) => /^(test|bench|\.ci)\/|^bin\/setup/.test(file)));
    expect(development, 'only development needs these').to.deep.equal([]);

    const project = join(dir, 'project');
    await run('mkdir', [project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'icwatch-operator', version: '1.0.0', private: true }));
    await npm(['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', join(dir, packed.filename)], project);
    const tree = (await npm(['ls', '--omit=dev', '--all', '--parseable'], project)).stdout;
    expect(tree).to.match(/node_modules\/icwatch$/m);
    expect(
      tree.split('\n').filter((path) => /node_modules\/(tsx|esbuild|@esbuild\/[^/]+)$/.test(path)),
      'a compiler in production',
    ).to.deep.equal([]);

    // REDIS_URL unset: the demo starts a private redis-server (and stops it), so nothing is shared with other tests.
    const demo = spawn(process.execPath, [join(project, 'node_modules/.bin/icwatch'), 'demo', '--users', '20', '--port', '0'], {
      cwd: project,
      env: cleanEnv({ REDIS_URL: undefined }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    demo.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    demo.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const exited = new Promise<number | string>((resolve) => demo.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    try {
      const base = await waitFor(
        'the status page URL',
        () => {
          if (demo.exitCode !== null) throw new Error(`icwatch demo exited ${demo.exitCode}:\n${output.slice(-3000)}`);
          return /status page +(http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1];
        },
        60000,
        100,
      );
      await waitFor('the demo ready', async () => (await fetch(`${base}/readyz`)).status === 200, 60000, 200);
      expect((await fetch(`${base}/`)).status, 'the status page').to.equal(200);
      expect((await fetch(`${base}/assets/page.js`)).status, 'the page script from dist/').to.equal(200);
      expect(output, 'the bundle runs, not the sources').not.to.match(/tsx|bundling the page in memory/);
      const redisUrl = /Redis +(redis:\/\/127\.0\.0\.1:\d+) \(private redis-server/.exec(output)?.[1];

      demo.kill('SIGTERM');
      expect(await exited, output.slice(-3000)).to.equal(0);
      if (redisUrl) expect(await redisAnswersAt(redisUrl), 'the private redis-server is stopped').to.equal(false);
    } finally {
      if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
    }
  });
});
