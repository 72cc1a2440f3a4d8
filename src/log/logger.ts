/**
 * winston, JSON lines on stdout by default (journald and Kubernetes collect them) or `pretty` for a terminal.
 * Every line has level, message and component; everything passes through redaction last.
 */
import winston from 'winston';
import { redactText, redactValue } from './redact.js';

export type Logger = winston.Logger;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

// Not winston's defaultMeta: it would override the component of child loggers (winston applies it last).
const defaultComponent = winston.format((info) => {
  info.component ??= 'main';
  return info;
});

const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    (info as Record<string, unknown>)[key] = key === 'message' && typeof info.message === 'string' ? redactText(info.message) : redactValue(info[key]);
  }
  return info;
});

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'json' | 'pretty';
  /** No output (tests). */
  silent?: boolean;
  /** Where lines go (default stdout). */
  stream?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const pretty = options.format === 'pretty';
  const format = pretty
    ? winston.format.combine(
        defaultComponent(),
        redact(),
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.printf(({ level, message, component, timestamp, ...rest }) => {
          const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
          return `${String(timestamp)} ${level.padEnd(5)} [${typeof component === 'string' ? component : 'main'}] ${String(message)}${extra}`;
        }),
      )
    : winston.format.combine(defaultComponent(), redact(), winston.format.timestamp(), winston.format.json());
  const transport = options.stream ? new winston.transports.Stream({ stream: options.stream }) : new winston.transports.Console({ forceConsole: false });
  return winston.createLogger({
    level: options.level ?? 'info',
    silent: options.silent ?? false,
    format,
    transports: [transport],
  });
}

/** A logger that prints nothing: for tests and library use. */
export function silentLogger(): Logger {
  return createLogger({ silent: true });
}

export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}
