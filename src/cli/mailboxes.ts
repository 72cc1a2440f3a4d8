/**
 * `icwatch mailboxes --workgroup ID -f FILE [--dry-run] [-c CONFIG]`: bulk update of a workgroup's monitored
 * mailboxes. Validates the file locally (nothing is sent while it has problems), then logs in, POSTs, logs out and
 * prints the result. Exit codes:
 *   0  updated (license warnings included)
 *   1  the server refused (400/403/404) or failed (5xx, no answer), or a license could not be set (setErrorExceedsThreshold)
 *   2  the input file is unreadable or invalid, or --workgroup is empty: nothing was sent
 *   78 configuration error, login refused for the configured credentials, a redirect (3xx, never followed: icws.url is
 *      wrong), or 410 Gone (the API removed the resource)
 */
import type { Config } from '../config/defaults.js';
import { connectionFromConfig } from '../icws/connection.js';
import { IcwsAuthenticationError, IcwsError, IcwsGoneError, IcwsRedirectError } from '../icws/errors.js';
import { connectWithSwitchover } from '../icws/switchover.js';
import { createLogger, type Logger } from '../log/logger.js';
import { redactText } from '../log/redact.js';
import { MAILBOXES_ROUTE, bulkUpdateMonitoredMailboxes, monitoredMailboxesPath } from '../mailboxes/client.js';
import { MailboxInputError, readBulkUpdateFile } from '../mailboxes/input.js';
import { LICENSE_NOT_SET, formatInputProblems, formatRefused, formatRejected, formatUpdated } from '../mailboxes/report.js';
import type { MonitoredMailboxesBulkUpdate } from '../mailboxes/types.js';
import { EXIT } from '../errors/exit-codes.js';
import { loadOrExplain } from './load-config.js';

export interface MailboxesOptions {
  workgroup: string;
  file: string;
  dryRun?: boolean;
  config?: string;
}

const fail = (text: string) => process.stderr.write(redactText(text.endsWith('\n') ? text : `${text}\n`));

export async function mailboxesCommand(opts: MailboxesOptions): Promise<number> {
  const workgroupId = opts.workgroup.trim();
  if (!workgroupId) {
    fail('icwatch: --workgroup expects a workgroup id, got an empty string');
    return EXIT.usage;
  }
  const config = loadOrExplain({ file: opts.config });
  if (typeof config === 'number') return config;
  let body: MonitoredMailboxesBulkUpdate;
  try {
    body = readBulkUpdateFile(opts.file);
  } catch (err) {
    if (err instanceof MailboxInputError) {
      fail(formatInputProblems(err));
      return EXIT.usage;
    }
    throw err;
  }

  if (opts.dryRun) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return EXIT.ok;
  }
  if (!config.icws.password) {
    fail(
      'icwatch: configuration error: icws.password: required to log in; set ICWATCH_ICWS_PASSWORD, ICWATCH_ICWS_PASSWORD_FILE or icws.passwordFile (from configuration)',
    );
    return EXIT.config;
  }
  const logger = createLogger({ level: config.log.level, format: 'pretty', stream: process.stderr }).child({ component: 'mailboxes' });
  try {
    return await update(config, workgroupId, body, logger);
  } catch (err) {
    return failure(err, workgroupId);
  } finally {
    logger.close();
  }
}

async function update(config: Config, workgroupId: string, body: MonitoredMailboxesBulkUpdate, logger: Logger): Promise<number> {
  const connection = connectionFromConfig(config.icws, { logger });
  // A one-shot command tries each host once (a 503 names the others), as the users feed does per round.
  const login = () => connectWithSwitchover(connection, { first: [config.icws.url], logger });
  await login();
  try {
    const outcome = await bulkUpdateMonitoredMailboxes(connection, workgroupId, body, { relogin: login, logger });
    switch (outcome.kind) {
      case 'updated': {
        process.stdout.write(formatUpdated(workgroupId, outcome.subObjects, body.remove ?? []));
        const notSet = outcome.subObjects.some((o) => o.licenseProblems?.some((p) => p.licenseErrorType === LICENSE_NOT_SET));
        return notSet ? EXIT.failure : EXIT.ok;
      }
      case 'rejected':
        fail(formatRejected(workgroupId, outcome));
        return EXIT.failure;
      case 'refused':
        fail(formatRefused(workgroupId, outcome, config.icws.user));
        return EXIT.failure;
    }
  } finally {
    await connection.disconnect().catch((err: unknown) => logger.debug('logout failed', { error: err }));
  }
}

function failure(err: unknown, workgroupId: string): number {
  if (err instanceof IcwsGoneError && err.route === MAILBOXES_ROUTE) {
    fail(
      `icwatch: the server removed ${monitoredMailboxesPath(workgroupId).replace(encodeURIComponent(workgroupId), '{id}')} from its API (410 Gone${err.errorId ? `, ${err.errorId}` : ''}): ${err.serverMessage}. Retrying will not help: this server's ICWS version does not offer the monitored-mailboxes bulk update.`,
    );
    return EXIT.config;
  }
  // A redirect: icws.url names a host that sends us elsewhere; the operator must set the server's own address.
  if (err instanceof IcwsGoneError || err instanceof IcwsAuthenticationError || err instanceof IcwsRedirectError) {
    fail(`icwatch: ${err.message}`);
    return EXIT.config;
  }
  if (err instanceof IcwsError) {
    fail(`icwatch: ${err.message}`);
    return EXIT.failure;
  }
  throw err;
}
