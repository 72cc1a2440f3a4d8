/**
 * Why a session ended or a login failed, as the `reason` label of icwatch_icws_reconnects_total, a short
 * description for the session state (/readyz shows it) and the detail for the log.
 */
import { IcwsAuthenticationError, IcwsError, IcwsNetworkError, IcwsUnauthorizedError, IcwsUnavailableError } from './errors.js';
import { describe } from './transport/types.js';

export type ReconnectReason = 'unauthorized' | 'connection-down' | 'network' | 'server-error' | 'switchover' | 'auth-failure';

export interface SessionEnd {
  reason: ReconnectReason;
  /** For SessionState.reconnecting.reason. */
  description: string;
  detail: string;
}

export function classify(err: unknown): SessionEnd {
  const detail = describe(err);
  if (err instanceof IcwsAuthenticationError) return { reason: 'auth-failure', description: 'authentication failed', detail };
  if (err instanceof IcwsUnauthorizedError || (err instanceof IcwsError && err.status === 401)) {
    return { reason: 'unauthorized', description: 'session expired', detail };
  }
  if (err instanceof IcwsUnavailableError) return { reason: 'switchover', description: 'no server accepting connections', detail };
  if (err instanceof IcwsNetworkError) return { reason: 'network', description: 'network failure', detail };
  if (err instanceof IcwsError) return { reason: 'server-error', description: `server error ${err.status}`, detail };
  return { reason: 'network', description: 'unexpected failure', detail: err instanceof Error && err.stack ? err.stack : detail };
}
