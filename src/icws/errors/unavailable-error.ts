import { IcwsError } from './icws-error.js';

/** 503 on connect: this server is a backup or is switching over; `alternateHostList` names the hosts to try. */
export class IcwsUnavailableError extends IcwsError {
  override name = 'IcwsUnavailableError';
  constructor(
    status: number,
    route: string,
    errorId: string | undefined,
    serverMessage: string,
    readonly alternateHostList: string[],
    body?: unknown,
  ) {
    super(status, route, errorId, serverMessage, body);
  }
}
