/**
 * The package as a consumer gets it: `npm pack` holds what package.json `exports` names, and a script outside the
 * repository imports `icwatch/client` from the unpacked tarball (with its types checked by tsc) and follows a
 * real fan-out with it.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { ROOT } from '../helpers/processes.js';
import { LayoutWriter } from '../fanout/layout.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { startReadsServer, type ReadsServer } from '../http/harness.js';

const run = promisify(execFile);

const CONSUMER_TS = `
import { IcwatchClient, type Change, type UserProps } from 'icwatch/client';
const client: IcwatchClient = new IcwatchClient({ url: process.argv[2]!, snapshot: 'http' });
const seen: Change[] = [];
client.on('change', (c: Change) => seen.push(c));
client.on('synced', (seq: number) => {
  const u: UserProps | undefined = client.get('u1');
  console.log(JSON.stringify({ seq, users: client.users.size, u1: u, byExtension: client.find('extension', '1002').map((x) => x.id) }));
  void client.stop();
});
client.on('refused', (err) => { console.error(err.message); process.exit(2); });
client.start();
`;

describe('icwatch/client from the packed tarball', function () {
  this.timeout(120000);
  let dir: string;
  let redis: Redis;
  let prefix: string;
  let server: ReadsServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'icwatch-consumer-'));
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('pack');
    const writer = new LayoutWriter(redis, prefix);
    await writer.init();
    for (let i = 0; i < 5; i++) await writer.upsert(`u${i}`, { extension: String(1000 + i) });
    server = await startReadsServer(redis, prefix);
  });
  after(async () => {
    await server.close();
    await dropPrefix(redis, prefix);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  it('npm pack holds what exports names; a script outside the repository imports and uses it', async () => {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
    const files = new Set(packed.files.map((f) => f.path));
    const exportsField = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).exports['./client'] as Record<string, string>;
    for (const target of Object.values(exportsField)) expect(files, `the tarball holds ${target}`).to.include(target.replace(/^\.\//, ''));
    expect(files).to.include('dist/page/page.js');

    // Unpack as npm would install it (its one runtime need in Node, ws, taken from this checkout: no registry).
    const pkg = join(dir, 'node_modules', 'icwatch');
    mkdirSync(pkg, { recursive: true });
    await run('tar', ['-xzf', join(dir, packed.filename), '-C', pkg, '--strip-components=1']);
    symlinkSync(join(ROOT, 'node_modules', 'ws'), join(dir, 'node_modules', 'ws'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    writeFileSync(join(dir, 'consumer.ts'), CONSUMER_TS);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          outDir: 'out',
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }),
    );

    // The types: tsc resolves icwatch/client through `exports` → types.
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', dir], { cwd: dir }).catch((err: { stdout: string }) => {
      throw new Error(`tsc on the consumer failed:\n${err.stdout}`);
    });
    const out = await run(process.execPath, [join(dir, 'out/consumer.js'), server.base], { cwd: dir, timeout: 20000 });
    const result = JSON.parse(out.stdout.trim()) as { seq: number; users: number; u1: Record<string, unknown>; byExtension: string[] };
    expect(result).to.deep.include({ seq: 5, users: 5, byExtension: ['u2'] });
    expect(result.u1).to.deep.include({ extension: '1001' });
  });
});
