/**
 * `npm run bench [-- --json] [-- --only NAME] [-- --runs N]`: runs every bench/*.bench.ts module and prints its
 * figures. Each module's default export returns named figures; ratios against baselines measured in the same run
 * are computed by the module itself. With --runs N (default 1) each module runs N times and the median of every
 * figure is reported, because the machine is shared and noisy. Some modules read flags of their own from the same
 * command line: `--quick` (shorter runs), `--users N` (directory, presence), `--presence off|on` (directory and
 * consumers: whether icwatch mirrors statuses, off by default; bench/presence-switch.ts), `--fanout-rate N` (presence).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Figures = Record<string, number | string>;
export type BenchModule = { default: (options: { quick: boolean; log: (line: string) => void }) => Promise<Figures> };

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 1;
const here = dirname(fileURLToPath(import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const result: Figures = {};
for (const file of readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()) {
  const name = file.replace(/\.bench\.ts$/, '');
  if (only && only !== name) continue;
  const mod = (await import(join(here, file))) as BenchModule;
  const all: Figures[] = [];
  for (let i = 0; i < runs; i++) {
    log(`bench ${name}: run ${i + 1}/${runs}`);
    all.push(await mod.default({ quick, log }));
  }
  for (const key of Object.keys(all[0]!)) {
    const values = all.map((f) => f[key]);
    result[key] = typeof values[0] === 'number' ? Math.round(median(values as number[]) * 1000) / 1000 : values[0]!;
  }
}
if (json) process.stdout.write(JSON.stringify(result) + '\n');
else for (const [k, v] of Object.entries(result)) process.stdout.write(`${k.padEnd(28)} ${v}\n`);
process.exit(0);
