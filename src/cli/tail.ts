/** `icwatch tail`: not built yet. */
import { EXIT } from './exit-codes.js';

export async function tailCommand(_opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('icwatch: the tail command is not available in this build\n');
  return EXIT.failure;
}
