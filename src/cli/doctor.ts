/**
 * `icwatch doctor [-c FILE]`: the preflight checks (src/doctor), printed on stdout. Exit 0 when none failed, 1
 * otherwise, a configuration that does not load included (it is the first check's ✗, not exit 78: doctor reports,
 * it does not refuse to start).
 */
import { runDoctor } from '../doctor/doctor.js';
import { EXIT } from '../errors/exit-codes.js';

export async function doctorCommand(opts: { config?: string }): Promise<number> {
  const healthy = await runDoctor({
    file: opts.config,
    write: (text) => process.stdout.write(text),
    colour: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  });
  return healthy ? EXIT.ok : EXIT.failure;
}
