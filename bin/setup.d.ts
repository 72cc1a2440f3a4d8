/** Why node_modules does not hold what package-lock.json names (a sentence), or null when it does. */
export function installNeeded(root: string): string | null;
/** Why this checkout's dist/ must be built before icwatch runs from it (a sentence), or null. */
export function buildNeeded(root: string): string | null;
/** Builds dist/ (`npm run build`) when buildNeeded says so; 0, or the build's exit status. */
export function buildIfNeeded(root: string): number;
