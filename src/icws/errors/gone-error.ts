import { EXIT } from '../../errors/exit-codes.js';
import { IcwsError } from './icws-error.js';

/** 410 Gone: the server removed this resource from its API. Retrying will not bring it back: icwatch exits 78. */
export class IcwsGoneError extends IcwsError {
  override name = 'IcwsGoneError';
  readonly exitCode = EXIT.config;
  constructor(
    status: number,
    route: string,
    errorId: string | undefined,
    serverMessage: string,
    body?: unknown,
    /** The resource path under /icws/{sessionId}/, e.g. messaging/subscriptions/configuration/users/{id}. */
    readonly resource?: string,
  ) {
    super(status, route, errorId, serverMessage, body);
    const what = resource ? `the resource ${resource} (${route})` : `the resource behind ${route}`;
    this.message = `ICWS removed ${what} from its API (410 Gone${errorId ? `, ${errorId}` : ''}): ${serverMessage}. Retrying will not help; this server's ICWS version does not offer it.`;
  }
}
