/** The package's version, for the log, the status page and the fan-out's hello frame. */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  if (!cached) {
    try {
      cached = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
    } catch {
      cached = '0.0.0';
    }
  }
  return cached;
}

/** Defined (as true) only in the bundle that src/build/cli-bundle.ts builds. */
declare const __ICWATCH_BUNDLE__: boolean | undefined;

/** Which form of icwatch is running: the dist/bin bundle, or the TypeScript sources through tsx. */
export function runningFrom(): 'bundle' | 'sources' {
  return typeof __ICWATCH_BUNDLE__ !== 'undefined' && __ICWATCH_BUNDLE__ ? 'bundle' : 'sources';
}
