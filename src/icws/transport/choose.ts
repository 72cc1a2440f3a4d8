/**
 * Which transport a session reads messages with (icws.transport): auto = server-sent events when the server's
 * messaging feature is ≥ 2, else short polling; sse forced on a server that cannot (e.g. an older backup) falls
 * back to polling with a warning rather than stopping the mirror.
 */
import type { Observable } from 'rxjs';
import type { Config } from '../../config/defaults.js';
import type { SessionInfo } from '../connection.js';
import { pollMessages } from './poll.js';
import { streamMessages } from './sse.js';
import type { TransportItem, TransportOptions } from './types.js';

export function chooseTransport(
  icws: Config['icws'],
  info: SessionInfo,
  deps: Pick<TransportOptions, 'connection' | 'logger' | 'hooks' | 'failuresBeforeRelogin' | 'knownUserTexts'>,
): Observable<TransportItem> {
  const messaging = info.features.get('messaging');
  let sse = icws.transport === 'sse' || (icws.transport === 'auto' && (messaging ?? 0) >= 2);
  if (icws.transport === 'sse' && messaging !== undefined && messaging < 2) {
    deps.logger.warn(`icws.transport is sse but ${info.icServer} has messaging feature version ${messaging} (server-sent events need 2): polling instead`);
    sse = false;
  }
  deps.logger.info(
    `receiving messages by ${sse ? 'server-sent events' : 'short polling'} (icws.transport ${icws.transport}, messaging feature ${messaging ?? 'absent'})`,
  );
  const common = {
    ...deps,
    maxMessageBytes: icws.maxMessageBytes,
    backoff: icws.backoff,
    requestTimeoutMs: icws.requestTimeoutMs,
  };
  return sse ? streamMessages({ ...common, sseIdleTimeoutMs: icws.sseIdleTimeoutMs }) : pollMessages({ ...common, pollIntervalMs: icws.pollIntervalMs });
}
