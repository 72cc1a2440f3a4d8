// Which form of icwatch bin/icwatch.js runs: the bundle in dist/bin/ (src/build/cli-bundle.ts) while every source it
// was built from is unchanged, else null (the sources, through tsx). Plain JavaScript: it runs before any loader.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The bundle's entry (a path) when dist/bin/manifest.json matches the sources under root; null otherwise. */
export function freshBundle(root) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(root, 'dist/bin/manifest.json'), 'utf8'));
  } catch {
    return null;
  }
  const inputs = Object.entries(manifest?.inputs ?? {});
  if (inputs.length === 0) return null;
  for (const [file, hash] of inputs) {
    let text;
    try {
      text = readFileSync(join(root, file));
    } catch {
      return null;
    }
    if (createHash('sha256').update(text).digest('hex') !== hash) return null;
  }
  return join(root, 'dist/bin/icwatch.mjs');
}
