/** The bundle's entry (a path) when dist/bin/manifest.json matches the sources under root; null otherwise. */
export function freshBundle(root: string): string | null;
