import { IcwsError } from './icws-error.js';

/** What the errorCode of a 401 on a session request says (docs/icws.md "Errors"). */
const SESSION_ERROR_CODES: Readonly<Record<number, string>> = {
  1: 'the session id has the wrong form',
  2: 'the server knows no such session',
  [-2147221499]: 'the session id is no longer valid: expired, logged out or the server restarted',
};

/**
 * 401 on a request of an established session: the session is gone (expired, logged out by an administrator,
 * server restarted), whatever the body says. Log in again at once; this never says anything about credentials.
 */
export class IcwsUnauthorizedError extends IcwsError {
  override name = 'IcwsUnauthorizedError';
  constructor(status: number, route: string, errorId: string | undefined, serverMessage: string, body?: unknown) {
    super(status, route, errorId, serverMessage, body);
    const why =
      this.errorCode !== undefined
        ? `errorCode ${this.errorCode}${SESSION_ERROR_CODES[this.errorCode] ? `: ${SESSION_ERROR_CODES[this.errorCode]}` : ''}`
        : 'no reason given';
    this.message = `ICWS ${route}: the session is gone (${status}, ${why})${serverMessage ? `: ${serverMessage}` : ''}`;
  }
}
