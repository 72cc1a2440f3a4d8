import { EXIT } from '../../errors/exit-codes.js';
import { IcwsError } from './icws-error.js';

/**
 * The server (or local validation before sending) refused the subscription as configured: 400 (bad body) or 404
 * (a configurationId that is not a user). Fix the subscription.* keys; icwatch exits 78.
 */
export class IcwsConfigError extends IcwsError {
  override name = 'IcwsConfigError';
  readonly exitCode = EXIT.config;
  constructor(
    status: number,
    route: string,
    errorId: string | undefined,
    serverMessage: string,
    readonly configKey: string,
    body?: unknown,
  ) {
    super(status, route, errorId, serverMessage, body);
    this.message = `${configKey}: ${status ? `ICWS ${route} answered ${status}${errorId ? ` ${errorId}` : ''}: ` : ''}${serverMessage}`;
  }
}
