/**
 * The ICWS simulator (docs/icws.md "The simulator"): an in-process stand-in for an ICWS server, for tests, benchmarks and the
 * demo. `startSimulator()` listens (127.0.0.1, any free port by default) and returns its URL and control API.
 */
import { registerSecret } from '../log/redact.js';
import { Control, type SimulatorControl } from './control.js';
import { SimulatorServer } from './server.js';
import { SimulatorState, type SimulatorOptions } from './state.js';
import { makeCertificates, type SimulatorCertificates } from './tls.js';

export type { User } from '../icws/messages.js';
export type { SimulatorControl } from './control.js';
export type { Fault } from './faults.js';
export type { MonitoredMailbox } from './mailboxes.js';
export { MAILBOX_LICENSE, MAILBOX_LICENSE_LIMIT, MAILBOX_LICENSE_THRESHOLD, MAILBOX_MONIKERS, initialMailboxes, mailboxIdFor } from './mailboxes.js';
export type { RequestRecord, SimulatorOptions, StatusSubscriptionPut } from './state.js';
export type { StatusChange } from './presence.js';
export { generateUser, generateUsers, WORKGROUP_IDS, WORKGROUPS, SKILLS, STATUS_TEXTS } from './users.js';
export { compactIso } from './random.js';

export interface Simulator {
  /** Base URL ending in /icws, e.g. http://127.0.0.1:41234/icws (https:// with the tls option) */
  readonly url: string;
  /** With the tls option: the PEM file of the private CA that signed its certificate (removed by close()). */
  readonly caFile?: string;
  readonly port: number;
  readonly control: SimulatorControl;
  /** Closes every socket (SSE streams included) and stops the churn. */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const state = new SimulatorState(options);
  const o = state.options;
  // The accepted password is a secret (unless it is also the user name, which must stay readable in logs).
  registerSecret(o.password, [o.user]);
  // The control drops the server's connections on demand: it is told of the server once both exist.
  const control: Control = new Control(state, () => server.dropConnections());
  let certificates: SimulatorCertificates | undefined;
  let server: SimulatorServer;
  let port: number;
  try {
    if (o.tls) certificates = await makeCertificates(o.host);
    server = new SimulatorServer(state, control, certificates);
    port = await server.listen(o.host, o.port);
  } catch (err) {
    control.stop();
    await certificates?.remove();
    throw err;
  }
  if (o.churnPerSec > 0) control.setChurnRate(o.churnPerSec);
  if (o.statusChurnPerSec > 0) control.setStatusChurnRate(o.statusChurnPerSec);
  const url = `${certificates ? 'https' : 'http'}://${urlHost(o.host)}:${port}/icws`;
  state.log.info('ICWS simulator listening', {
    url,
    users: state.directory.size,
    seed: o.seed,
    messagingVersion: o.messagingVersion,
    ...(certificates ? { caFile: certificates.caFile } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    ...(certificates ? { caFile: certificates.caFile } : {}),
    control,
    close() {
      closing ??= (async () => {
        control.stop();
        state.sessions.forgetAll();
        await server.close();
        await certificates?.remove();
      })();
      return closing;
    },
  };
}
