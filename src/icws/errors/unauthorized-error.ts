import { IcwsError } from './icws-error.js';

/** 401 on a session request: the session is gone (expired, logged out, server restarted). Log in again. */
export class IcwsUnauthorizedError extends IcwsError {
  override name = 'IcwsUnauthorizedError';
}
