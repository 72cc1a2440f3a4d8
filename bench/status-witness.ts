/**
 * The presence bench's own ICWS session on the simulator (a bare client, test/simulator/raw-client.ts): it follows
 * every user's status (`PUT messaging/subscriptions/status/user-statuses` with every id) and reads the messages over
 * server-sent events as they are sent. So it counts the status changes the simulator sent (one user's delta each),
 * and when, whatever icwatch did with them: the presence bench sets icwatch's status entries against this count
 * (presenceKeptFraction) and the shift change's last login in the mirror against the last one sent.
 */
import { request, type ClientRequest } from 'node:http';
import { USER_STATUS_MESSAGE, USER_STATUSES_SUBSCRIPTION, type UserStatus, type UserStatusMessage } from '../src/icws/user-statuses.js';
import { call, connect } from '../test/simulator/raw-client.js';

export type WitnessListener = (status: UserStatus, at: number) => void;

export class StatusWitness {
  /** Status changes received so far: the items of every isDelta message. */
  changes = 0;
  /** performance.now() when the last change arrived. */
  lastChangeAt = NaN;
  private readonly listeners = new Set<WitnessListener>();
  private fullReceived?: () => void;
  private failed?: (err: Error) => void;

  private constructor(private readonly req: ClientRequest) {}

  /** Logs in, opens the stream, subscribes to `ids`; resolves once the full message the subscription brings arrived. */
  static async start(simUrl: string, ids: readonly string[], timeoutMs = 120_000): Promise<StatusWitness> {
    const session = await connect(simUrl, { applicationName: 'icwatch presence bench witness' });
    const url = new URL(`${session.base}/${session.sessionId}/messaging/messages`);
    let witness!: StatusWitness;
    const opened = new Promise<void>((resolve, reject) => {
      const req = request(url, { headers: { ...session.headers, Accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`the witness's event stream answered ${res.statusCode}`));
        res.setEncoding('utf8');
        // The unfinished line in pieces, joined once it ends (the full message is one line of many MB).
        let pending: string[] = [];
        res.on('data', (chunk: string) => {
          if (!chunk.includes('\n')) return void pending.push(chunk);
          const lines = (pending.join('') + chunk).split('\n');
          pending = [lines.pop()!];
          for (const line of lines) if (line.startsWith('data: ')) witness.onMessage(line.slice(6));
        });
        res.on('close', () => witness.failed?.(new Error("the witness's event stream ended")));
        resolve();
      });
      req.on('error', (err) => {
        if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
      });
      witness = new StatusWitness(req);
      req.end();
    });
    await opened;
    const full = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the witness got no full status message within ${timeoutMs} ms`)), timeoutMs);
      witness.fullReceived = () => (clearTimeout(timer), resolve());
      witness.failed = (err) => (clearTimeout(timer), reject(err));
    });
    const put = await call(session, 'PUT', `/${USER_STATUSES_SUBSCRIPTION}`, { userIds: ids });
    if (put.status !== 200) throw new Error(`the witness's status subscription answered ${put.status}: ${await put.text()}`);
    await full;
    witness.failed = undefined;
    return witness;
  }

  /** Calls `listener` with each changed status (the properties that changed, userId and statusId always) as it arrives. */
  onChange(listener: WitnessListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves once no change has arrived for `quietMs` (the simulator stopped and what it sent has been read), or
   * after `timeoutMs` whatever arrives.
   */
  async quiet(quietMs = 500, timeoutMs = 10_000): Promise<void> {
    const t0 = performance.now();
    let seen = this.changes;
    let since = performance.now();
    while (performance.now() - t0 < timeoutMs) {
      await new Promise((r) => setTimeout(r, 50));
      if (this.changes !== seen) [seen, since] = [this.changes, performance.now()];
      else if (performance.now() - since >= quietMs) return;
    }
  }

  close(): void {
    this.failed = undefined;
    this.req.destroy();
  }

  private onMessage(text: string): void {
    if (!text.includes(USER_STATUS_MESSAGE)) return; // the catalogue's and other messages
    const message = JSON.parse(text) as UserStatusMessage;
    if (message.__type !== USER_STATUS_MESSAGE) return;
    if (!message.isDelta) return this.fullReceived?.();
    const at = performance.now();
    this.changes += message.userStatusList.length;
    this.lastChangeAt = at;
    for (const status of message.userStatusList) for (const l of this.listeners) l(status, at);
  }
}
