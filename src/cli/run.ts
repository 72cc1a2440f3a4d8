/**
 * `icwatch run [-c FILE]`: load and validate the configuration (a ConfigError exits 78 naming the key), run the
 * daemon until SIGTERM/SIGINT or a fatal error, and return its exit code. A second signal exits at once.
 */
import type { Config } from '../config/defaults.js';
import { createLogger, type Logger } from '../log/logger.js';
import { redactText } from '../log/redact.js';
import { Daemon } from '../daemon/daemon.js';
import { buildStages } from '../daemon/build-stages.js';
import { EXIT } from '../errors/exit-codes.js';
import { loadOrExplain } from './load-config.js';

/** Run a daemon until it exits; SIGTERM/SIGINT stop it gracefully, a second signal exits 1 at once. */
export async function runDaemon(config: Config, logger: Logger, hooks: { onRunning?: (daemon: Daemon) => void | Promise<void> } = {}): Promise<number> {
  const daemon = new Daemon(config, { logger, buildStages });
  const onSignal = (signal: NodeJS.Signals) => {
    if (daemon.state.type === 'draining') {
      logger.warn(`${signal} again: exiting now without finishing the shutdown`);
      process.exit(EXIT.failure);
    }
    logger.info(`${signal} received: shutting down (send it again to exit at once)`);
    void daemon.stop(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await daemon.start();
    if (daemon.state.type === 'running') await hooks.onRunning?.(daemon);
    const code = await daemon.exited;
    // One line for whoever reads stderr (systemctl status, a terminal) besides the JSON log on stdout.
    if (code !== EXIT.ok && daemon.state.type === 'failed') process.stderr.write(`icwatch: exiting ${code}: ${redactText(daemon.state.reason)}\n`);
    return code;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** Whatever a stage left open must not keep the process past its shutdown: exit once the log is written. */
export function exitSoon(code: number, graceMs = 200): number {
  setTimeout(() => process.exit(code), graceMs).unref();
  return code;
}

export async function runCommand(opts: { config?: string }): Promise<number> {
  const config = loadOrExplain({ file: opts.config });
  if (typeof config === 'number') return config;
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  return exitSoon(await runDaemon(config, logger));
}
