import { IcwsError } from './icws-error.js';

/**
 * The server refused the login itself (only the connect request can say so: docs/icws.md "Errors"). Retrying
 * quickly could lock the account: callers wait the longest backoff (icws.backoff.maxMs) before the next attempt.
 */
export class IcwsAuthenticationError extends IcwsError {
  override name = 'IcwsAuthenticationError';
  constructor(status: number, route: string, errorId: string | undefined, serverMessage: string, body?: unknown) {
    super(status, route, errorId, serverMessage, body);
    const what = [status, errorId, this.errorCode !== undefined ? `errorCode ${this.errorCode}` : undefined].filter((x) => x !== undefined).join(' ');
    this.message = `ICWS refused the login for the configured user (${what}): ${serverMessage.replace(/\.$/, '')}. Check icws.user and icws.password / icws.passwordFile.`;
  }
}
