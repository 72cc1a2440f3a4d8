/** `icwatch simulate`: not built yet. */
import { EXIT } from './exit-codes.js';

export async function simulateCommand(_opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('icwatch: the simulate command is not available in this build\n');
  return EXIT.failure;
}
