/**
 * `icwatch` command line: parses arguments and hands each command to its module (loaded on demand, so one
 * command's dependencies do not slow the others). Returns the process exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT } from '../errors/exit-codes.js';
// Types only: each command's module is still loaded when that command runs.
import type { DemoOptions } from './demo.js';
import type { MailboxesOptions } from './mailboxes.js';
import type { RemovalsOptions } from './removals.js';
import type { SimulateOptions } from './simulate.js';
import type { TailOptions } from './tail.js';

/** The options of the commands that only take a configuration file. */
interface ConfigFileOptions {
  config?: string;
}

const intArg = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new CommanderError(EXIT.usage, 'icwatch.invalidArgument', `error: ${name} expects a whole number, got "${value}"`);
  return Number(value);
};
const numArg = (name: string) => (value: string) => {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new CommanderError(EXIT.usage, 'icwatch.invalidArgument', `error: ${name} expects a number, got "${value}"`);
  return Number(value);
};

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('icwatch')
    .description('Watches the PureConnect user directory: ICWS subscription → Redis mirror → WebSocket fan-out, with Prometheus metrics.')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('run')
    .description('run the daemon')
    .option('-c, --config <file>', 'YAML configuration file (environment variables override it)')
    .action(async (opts: ConfigFileOptions) => {
      code = await (await import('./run.js')).runCommand(opts);
    });
  program
    .command('demo')
    .description('simulator + Redis + daemon on this machine, with generated users and churn')
    .option('--users <n>', 'generated users', intArg('--users'), 500)
    .option('--churn <perSecond>', 'changes per second', numArg('--churn'), 5)
    .option('--port <port>', 'HTTP port of the daemon (metrics, health, WebSocket)', intArg('--port'), 8080)
    .action(async (opts: DemoOptions) => {
      code = await (await import('./demo.js')).demoCommand(opts);
    });
  program
    .command('simulate')
    .description('the ICWS simulator alone')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0 = any free port)', intArg('--port'), 8018)
    .option('--users <n>', 'generated users', intArg('--users'), 200)
    .option('--churn <perSecond>', 'changes per second (0 = none)', numArg('--churn'), 2)
    .option('--status-churn <perSecond>', 'user status changes per second (0 = none)', numArg('--status-churn'), 2)
    .option('--seed <seed>', 'seed of the generated users and churn', intArg('--seed'), 1)
    .addOption(new Option('--messaging-version <v>', 'messaging feature version (2 = server-sent events available)').choices(['1', '2']).default('2'))
    .option('--user <userID>', 'accepted userID', 'icwatch')
    .option('--password <password>', 'accepted password', 'icwatch')
    .addOption(
      new Option('--refused-login-status <status>', 'status of a refused login: 400 as real servers, or 401 (the tidy variant)')
        .choices(['400', '401'])
        .default('400'),
    )
    .option('--tls', 'HTTPS, with a private CA and a server certificate made at start (the CA file is printed: give it to icws.tls.caFile)')
    .option(
      '--password-expiry-days <days>',
      'daysUntilPasswordExpiration of each login ("none": not sent)',
      (v: string) => (v === 'none' ? null : intArg('--password-expiry-days')(v)),
      90,
    )
    .action(async (opts: SimulateOptions) => {
      code = await (await import('./simulate.js')).simulateCommand(opts);
    });
  program
    .command('mailboxes')
    .description("bulk update of a workgroup's monitored mailboxes")
    .requiredOption('--workgroup <id>', 'workgroup id')
    .requiredOption('-f, --file <file>', 'YAML or JSON file: {add: [...], modify: [...], remove: [ids]}')
    .option('--dry-run', 'print the exact request body and send nothing')
    .option('-c, --config <file>', 'configuration file (for the ICWS connection)')
    .action(async (opts: MailboxesOptions) => {
      code = await (await import('./mailboxes.js')).mailboxesCommand(opts);
    });
  program
    .command('tail')
    .description('follow changes over WebSocket and print one line per change')
    .option('--url <url>', 'WebSocket URL', 'ws://127.0.0.1:8080/v1/users')
    .option('--since <seq>', 'resume after this seq', intArg('--since'))
    .option('--epoch <epoch>', 'epoch the --since seq belongs to')
    .option('--ids <ids>', 'comma-separated user ids to follow')
    .option('--props <props>', 'comma-separated properties to receive')
    .option('--token <token>', 'bearer token (or ICWATCH_TOKEN)')
    .option('--json', 'print raw frames')
    .action(async (opts: TailOptions) => {
      code = await (await import('./tail.js')).tailCommand(opts);
    });
  program
    .command('doctor')
    .description('check everything icwatch needs (ICWS network, TLS, login, rights; Redis, ACL; the HTTP port), each ✓ or ✗ with what to do')
    .option('-c, --config <file>', 'YAML configuration file (environment variables override it)')
    .action(async (opts: ConfigFileOptions) => {
      code = await (await import('./doctor.js')).doctorCommand(opts);
    });
  program
    .command('removals')
    .description('the removals the delete guard holds: list them, have the leader apply them, or drop the hold')
    .option('--list', 'print the held ids and why they are held (the default)')
    .option('--apply', 'have the leader remove the held users (ordinary remove entries)')
    .option('--discard', 'drop the hold: the users stay as they are')
    .option('--timeout <ms>', 'how long the leader may take to carry out --apply or --discard', intArg('--timeout'), 30000)
    .option('-c, --config <file>', 'YAML configuration file (for Redis)')
    .action(async (opts: RemovalsOptions) => {
      code = await (await import('./removals.js')).removalsCommand(opts);
    });
  program
    .command('check-config')
    .description('validate and print the effective configuration, secrets redacted')
    .option('-c, --config <file>', 'YAML configuration file')
    .action(async (opts: ConfigFileOptions) => {
      code = (await import('./check-config.js')).checkConfigCommand(opts);
    });

  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      return EXIT.usage;
    }
    throw err;
  }
}
