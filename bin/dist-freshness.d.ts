/** dist/ under a root: see bin/dist-freshness.js. */
export type DistFreshness =
  { kind: 'current' } | { kind: 'packaged' } | { kind: 'missing'; sources: boolean } | { kind: 'stale'; source: string; change: 'edited' | 'gone' };

/** What the build writes last (relative to the root). */
export const MANIFEST: string;
/** The build script, relative to the root: present in a checkout, absent in an installed package. */
export const BUILD_SCRIPT: string;
/** What dist/manifest.json records for each file the build read: the sha256 of its text, in hex. */
export interface DistManifest {
  inputs: Record<string, string>;
}
export function sourceHash(text: Buffer | string): string;
export function distFreshness(root: string): DistFreshness;
/** What is wrong with dist/ (a sentence), or null when icwatch can run from it as it is. */
export function distProblem(freshness: DistFreshness): string | null;
