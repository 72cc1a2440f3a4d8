/** Debian's Chromium as the browser tests launch it (playwright-core with executablePath: no browser download here). */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless, and quiet: nothing reaches out while a test runs. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
