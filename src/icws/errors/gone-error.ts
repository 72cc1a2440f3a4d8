import { EXIT } from '../../errors/exit-codes.js';
import { IcwsError } from './icws-error.js';

/** 410 Gone: the server removed this resource from its API. Retrying will not bring it back: icwatch exits 78. */
export class IcwsGoneError extends IcwsError {
  override name = 'IcwsGoneError';
  readonly exitCode = EXIT.config;
  constructor(status: number, route: string, errorId: string | undefined, serverMessage: string, body?: unknown) {
    super(status, route, errorId, serverMessage, body);
    this.message = `ICWS removed the resource behind ${route} from its API (410 Gone${errorId ? `, ${errorId}` : ''}): ${serverMessage}. Retrying will not help; this server's ICWS version does not offer it.`;
  }
}
