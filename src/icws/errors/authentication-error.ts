import { IcwsError } from './icws-error.js';

/**
 * The server refused the login (error.request.connection.authenticationFailure). Retrying quickly could lock the
 * account: callers wait the longest backoff (icws.backoff.maxMs) before the next attempt.
 */
export class IcwsAuthenticationError extends IcwsError {
  override name = 'IcwsAuthenticationError';
  constructor(status: number, route: string, errorId: string | undefined, serverMessage: string, body?: unknown) {
    super(status, route, errorId, serverMessage, body);
    this.message = `ICWS refused the login for the configured user (${errorId ?? status}): ${serverMessage}. Check icws.user and icws.password / icws.passwordFile.`;
  }
}
