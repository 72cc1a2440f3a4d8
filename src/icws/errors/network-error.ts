import { IcwsError } from './icws-error.js';

/** No usable answer: connection refused or reset, DNS, TLS, a timeout (icws.requestTimeoutMs), or a body too large (icws.maxMessageBytes). */
export class IcwsNetworkError extends IcwsError {
  override name = 'IcwsNetworkError';
  constructor(
    route: string,
    readonly code: string,
    detail: string,
  ) {
    super(0, route, undefined, detail);
    this.message = `ICWS ${route}: no answer (${code}): ${detail}`;
  }
}
