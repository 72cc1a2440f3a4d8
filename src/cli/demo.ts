/** `icwatch demo`: not built yet. */
import { EXIT } from './exit-codes.js';

export async function demoCommand(_opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('icwatch: the demo command is not available in this build\n');
  return EXIT.failure;
}
