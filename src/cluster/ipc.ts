/**
 * Questions and answers over one IPC endpoint (a worker's `process`, or the primary's `cluster.Worker`): each request
 * has an id, its reply settles it, and an unanswered request fails after a timeout (CLUSTER_LIMITS).
 */
import { isMessage, type Reply, type Request } from './messages.js';

export interface IpcEndpoint {
  /** Sends; a closed channel is reported to `onError`, never thrown or emitted as an unhandled 'error'. */
  send(message: unknown, onError: (err: Error) => void): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** The endpoint of a process's own channel (a worker) or of a forked worker (the primary). */
/** What `process` (in a worker) and `cluster.Worker` (in the primary) have in common. */
type IpcPeer = {
  send?: (message: never, handle: undefined, options: undefined, callback: (err: Error | null) => void) => boolean;
  on: IpcEndpoint['on'];
  off: IpcEndpoint['off'];
};

export function endpointOf(peer: IpcPeer): IpcEndpoint {
  return {
    send: (message, onError) => {
      try {
        peer.send?.(message as never, undefined, undefined, (err: Error | null) => err && onError(err));
      } catch (err) {
        onError(err as Error);
      }
    },
    on: (e, l) => peer.on(e, l),
    off: (e, l) => peer.off(e, l),
  };
}

export type Answerer = (what: Request['what']) => Promise<unknown>;

export class IpcRequestError extends Error {
  override name = 'IpcRequestError';
}

export class IpcChannel {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (body: unknown) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  private readonly listener = (m: unknown) => this.onMessage(m);

  constructor(
    private readonly endpoint: IpcEndpoint,
    private readonly answer: Answerer,
    private readonly timeoutMs: number,
    /** Everything that is not a request or a reply. */
    private readonly onOther: (message: { t: string }) => void,
  ) {
    endpoint.on('message', this.listener);
  }

  request<T>(what: Request['what'], peer: string): Promise<T> {
    const rid = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(new IpcRequestError(`${peer} did not answer "${what}" within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(rid, { resolve: resolve as (b: unknown) => void, reject, timer });
      this.endpoint.send({ t: 'request', rid, what } satisfies Request, (err) => {
        clearTimeout(timer);
        this.pending.delete(rid);
        reject(new IpcRequestError(`${peer} cannot be asked "${what}": ${err.message}`));
      });
    });
  }

  /** Fails whatever is still waiting (the peer is gone). */
  close(reason: string): void {
    this.endpoint.off('message', this.listener);
    for (const [rid, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new IpcRequestError(reason));
      this.pending.delete(rid);
    }
  }

  private onMessage(m: unknown): void {
    if (!isMessage(m)) return;
    if (m.t === 'reply') {
      const r = m as Reply;
      const p = this.pending.get(r.rid);
      if (!p) return;
      this.pending.delete(r.rid);
      clearTimeout(p.timer);
      if (r.error !== undefined) p.reject(new IpcRequestError(r.error));
      else p.resolve(r.body);
    } else if (m.t === 'request') {
      const q = m as Request;
      this.answer(q.what).then(
        (body) => this.reply({ t: 'reply', rid: q.rid, body }),
        (err: unknown) => this.reply({ t: 'reply', rid: q.rid, error: (err as Error).message ?? String(err) }),
      );
    } else this.onOther(m);
  }

  /** Sends anything else; a closed channel is ignored (the peer is gone, its exit is handled elsewhere). */
  send(message: unknown): void {
    this.endpoint.send(message, () => {});
  }

  private reply(r: Reply): void {
    this.send(r);
  }
}
