/**
 * The live page's script (/assets/page.js): dist/page/page.js, which the build writes (`npm run build`). The bundle
 * serves it as it is (bin/icwatch.js ran it only after checking that dist/ is current). From the sources (`npm run
 * dev`, the tests), when dist/ is older than they are, the page is bundled once in memory instead, with a warning:
 * an edit to the page shows without a build (esbuild is there: the sources only run with the dev dependencies).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distFreshness, distProblem } from '../../bin/dist-freshness.js';
import { runningFrom } from '../util/version.js';
import type { Logger } from '../log/logger.js';

export interface PageScript {
  body: Buffer;
  etag: string;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist/page/page.js');

export class PageAssets {
  private script: Promise<PageScript> | null = null;

  constructor(private readonly logger: Logger) {}

  /** The script, read or bundled once per process. */
  pageScript(): Promise<PageScript> {
    this.script ??= this.load().catch((err: unknown) => {
      this.script = null; // let a later request try again
      throw err;
    });
    return this.script;
  }

  private async load(): Promise<PageScript> {
    const problem = runningFrom() === 'bundle' ? null : distProblem(distFreshness(ROOT));
    let body: Buffer;
    if (!problem) body = readFileSync(BUNDLE);
    else {
      this.logger.warn(`${problem}: bundling the page in memory (npm run build writes dist/page/page.js)`);
      const { bundlePage } = await import('../build/page-bundle.js');
      body = Buffer.from((await bundlePage(ROOT)).script);
    }
    return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
  }
}
