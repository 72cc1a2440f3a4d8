/**
 * The live page's script (/assets/page.js). The bundle built at install time (dist/page/page.js, `npm run build`)
 * is served when it is at least as new as the sources; otherwise (a checkout edited since, or an image whose
 * install ran before the sources were copied) it is bundled once in memory with esbuild, and a warning says so.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log/logger.js';

export interface PageScript {
  body: Buffer;
  etag: string;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist/page/page.js');
const SOURCES = ['src/page', 'src/client', 'src/util'].map((d) => join(ROOT, d));

const mtime = (file: string) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
};

function newestSource(): number {
  let newest = 0;
  for (const dir of SOURCES) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) if (name.endsWith('.ts')) newest = Math.max(newest, mtime(join(dir, name)) ?? 0);
  }
  return newest;
}

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
    const built = mtime(BUNDLE);
    let body: Buffer;
    if (built !== undefined && built >= newestSource()) body = readFileSync(BUNDLE);
    else {
      this.logger.warn(`${built === undefined ? 'no' : 'an outdated'} dist/page/page.js: bundling the page in memory (npm run build makes it at install time)`);
      const { bundlePage } = await import('../page/build.js');
      body = Buffer.from(await bundlePage());
    }
    return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
  }
}
