import { IcwsError } from './icws-error.js';

/**
 * A 3xx answer. icwatch never follows redirects: following one re-sends the request, the login's password or the
 * session's cookie included, to whatever host and scheme the Location names (https → http too). The message names
 * the status and the Location's host only: the rest of a Location may carry tokens.
 */
export class IcwsRedirectError extends IcwsError {
  override name = 'IcwsRedirectError';
  constructor(
    status: number,
    route: string,
    /** host[:port] the Location names ('' when there is none or it is not a URL). */
    readonly locationHost: string,
  ) {
    const where = locationHost ? `a redirect to ${locationHost}` : 'a redirect';
    super(
      status,
      route,
      undefined,
      `${where}, not followed (it would re-send the request and its credentials there): set icws.url to the address ICWS answers on itself`,
    );
  }
}

/** The host a Location header names, resolved against the request's URL; '' when absent or unreadable. */
export function locationHost(location: string | undefined, requestUrl: string): string {
  if (!location) return '';
  try {
    return new URL(location, requestUrl).host;
  } catch {
    return '';
  }
}
