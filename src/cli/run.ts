/** `icwatch run`: not built yet. */
import { EXIT } from './exit-codes.js';

export async function runCommand(_opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('icwatch: the run command is not available in this build\n');
  return EXIT.failure;
}
