/**
 * What `icwatch doctor` prints: one line per check (✓ passed, ! passed with a warning, ✗ failed, – skipped), names
 * aligned, what was found, and under a ✗ or ! what to do. Colours only on a terminal (and never with NO_COLOR,
 * https://no-color.org). Every line goes through redactText: a server's message or a URL cannot carry a secret out.
 */
import { redactText } from '../log/redact.js';

export type Outcome = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  outcome: Outcome;
  /** One line: what was found. */
  found: string;
  /** What to do (for fail and warn). */
  fix?: string;
}

export const pass = (found: string): CheckResult => ({ outcome: 'pass', found });
export const warn = (found: string, fix: string): CheckResult => ({ outcome: 'warn', found, fix });
export const fail = (found: string, fix: string): CheckResult => ({ outcome: 'fail', found, fix });
export const skip = (why: string): CheckResult => ({ outcome: 'skip', found: `skipped: ${why}` });

/** A check that threw (a bug, or a failure nobody foresaw) is a ✗ of its own, and the checks after it still run. */
export async function safely(run: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await run();
  } catch (err) {
    return fail(`the check could not complete: ${err instanceof Error ? err.message : String(err)}`, 'see the message; run doctor again');
  }
}

const MARK: Record<Outcome, string> = { pass: '✓', warn: '!', fail: '✗', skip: '–' };
/** ANSI colours: green, yellow, red, dim. */
const COLOUR: Record<Outcome, string> = { pass: '32', warn: '33', fail: '31', skip: '2' };

export interface PrinterOptions {
  write(text: string): void;
  colour: boolean;
  /** The longest check name, for alignment. */
  nameWidth: number;
}

/** Prints each check as it completes, and counts the outcomes. */
export class ReportPrinter {
  readonly counts: Record<Outcome, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };

  constructor(private readonly options: PrinterOptions) {}

  line(name: string, result: CheckResult): void {
    this.counts[result.outcome]++;
    const paint = (outcome: Outcome, text: string) => (this.options.colour ? `\x1b[${COLOUR[outcome]}m${text}\x1b[0m` : text);
    const indent = ' '.repeat(this.options.nameWidth + 4);
    let text = `${paint(result.outcome, MARK[result.outcome])} ${name.padEnd(this.options.nameWidth)}  ${oneLine(result.found)}\n`;
    if (result.fix && result.outcome !== 'pass') text += `${indent}${paint(result.outcome, '→')} ${oneLine(result.fix)}\n`;
    this.options.write(redactText(text));
  }

  note(text: string): void {
    this.options.write(redactText(`${text}\n`));
  }

  get failed(): boolean {
    return this.counts.fail > 0;
  }

  summary(): string {
    const { pass: passed, warn: warned, fail: failed, skip: skipped } = this.counts;
    const parts = [
      `${passed + warned} passed`,
      warned ? `${warned} with a warning` : '',
      failed ? `${failed} failed` : '',
      skipped ? `${skipped} skipped` : '',
    ];
    return parts.filter(Boolean).join(', ');
  }
}

/** A server's message may hold line breaks: a check stays one line. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
