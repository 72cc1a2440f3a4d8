/** Why node_modules does not hold what package-lock.json names (a sentence), or null when it does. */
export function installNeeded(root: string): string | null;
/** Why dist/ is not what `npm run build` would write now (a sentence), or null when it is. */
export function buildNeeded(root: string): string | null;
