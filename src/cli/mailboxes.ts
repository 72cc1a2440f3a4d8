/** `icwatch mailboxes`: not built yet. */
import { EXIT } from './exit-codes.js';

export async function mailboxesCommand(_opts: Record<string, unknown>): Promise<number> {
  process.stderr.write('icwatch: the mailboxes command is not available in this build\n');
  return EXIT.failure;
}
