#!/usr/bin/env node
// The package's bin. icwatch runs its TypeScript sources through tsx, so `npm ci` leaves it runnable with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
