/** An ICWS answer that is not a success: the HTTP status, the route template, and the server's error body. */
export class IcwsError extends Error {
  override name = 'IcwsError';
  /** errorCode of the server's body, when it sent one (older servers send it without an errorId: docs/icws.md "Errors"). */
  readonly errorCode: number | undefined;
  constructor(
    /** HTTP status; 0 when no answer came (see IcwsNetworkError). */
    readonly status: number,
    /** Route template, e.g. "PUT subscription" (never contains a session id). */
    readonly route: string,
    /** errorId of the server's body, when it sent one. */
    readonly errorId: string | undefined,
    /** The server's message (or a description of what went wrong). */
    readonly serverMessage: string,
    /** The parsed error body, when there was one. */
    readonly body?: unknown,
  ) {
    super(`ICWS ${route} answered ${status}${errorId ? ` ${errorId}` : ''}: ${serverMessage}`);
    const code = body && typeof body === 'object' ? (body as { errorCode?: unknown }).errorCode : undefined;
    this.errorCode = typeof code === 'number' ? code : undefined;
  }
}
