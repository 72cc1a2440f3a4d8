/**
 * `icwatch simulate`: the ICWS simulator alone, until SIGINT/SIGTERM. Prints the base URL and the control URL;
 * logs sessions and churn through the winston logger.
 */
import { createLogger, componentLogger } from '../log/logger.js';
import { startSimulator } from '../simulator/index.js';
import { EXIT } from '../errors/exit-codes.js';

export interface SimulateOptions {
  host?: string;
  port?: number;
  users?: number;
  churn?: number;
  /** Status changes per second (user statuses: calls, breaks, log-ins). */
  statusChurn?: number;
  seed?: number;
  messagingVersion?: string;
  user?: string;
  password?: string;
  /** "400" (real servers) or "401" (the tidy variant). */
  refusedLoginStatus?: string;
  tls?: boolean;
  /** null: the login answer does not say. */
  passwordExpiryDays?: number | null;
}

export async function simulateCommand(opts: SimulateOptions): Promise<number> {
  const logger = createLogger({ format: process.stdout.isTTY ? 'pretty' : 'json' });
  const log = componentLogger(logger, 'simulator');
  let sim;
  try {
    sim = await startSimulator({
      host: opts.host,
      port: opts.port,
      users: opts.users,
      churnPerSec: opts.churn,
      statusChurnPerSec: opts.statusChurn,
      seed: opts.seed,
      messagingVersion: opts.messagingVersion === '1' ? 1 : 2,
      user: opts.user,
      password: opts.password,
      refusedLoginStatus: opts.refusedLoginStatus === '401' ? 401 : 400,
      tls: opts.tls ?? false,
      passwordExpiryDays: opts.passwordExpiryDays,
      logger: log,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const where = `${opts.host ?? '127.0.0.1'}:${opts.port ?? 8018}`;
    const why =
      e.code === 'EADDRINUSE'
        ? `cannot listen on ${where}: the port is in use (try --port 0 for any free port)`
        : e.code
          ? `cannot listen on ${where}: ${e.message}`
          : e.message;
    process.stderr.write(`icwatch simulate: ${why}\n`);
    return EXIT.failure;
  }
  const control = sim.url.replace(/\/icws$/, '/_sim/');
  process.stdout.write(
    `ICWS simulator: ${sim.url}\ncontrol API:    ${control}\naccepts userID: ${opts.user ?? 'icwatch'}\n` +
      (sim.caFile ? `CA file:        ${sim.caFile} (icws.tls.caFile; removed when the simulator stops)\n` : ''),
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info('stopping', { signal });
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  await sim.close();
  logger.close();
  return EXIT.ok;
}
