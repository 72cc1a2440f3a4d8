/**
 * The client side of the consumers bench (bench/consumers.bench.ts): one child process holding a share of the
 * clients, driven over IPC. It opens WebSocket clients (snapshot) or HTTP-then-WebSocket clients (GET /v1/users,
 * then since/epoch), samples the receipt time of live changes on every SAMPLE_EVERY-th client, and reads the
 * others' sockets every UNSAMPLED_READ_EVERY_MS: they stand in for consumers on other machines, which would not take
 * this machine's cores (icwatch writes to them as to any client). The process runs CLIENT_NICENESS nicer than
 * icwatch for the same reason.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { getPriority, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const SAMPLE_EVERY = 10;
/** How often a client that is not sampled reads what its socket received. */
const UNSAMPLED_READ_EVERY_MS = 250;
/** Connections being opened at once per client process (the listen backlog is finite, snapshots are large). */
const CONNECT_CONCURRENCY = 25;
/** How much nicer than icwatch the client processes run. */
export const CLIENT_NICENESS = 10;
export const PATH = '/v1/users';

export const now = () => performance.timeOrigin + performance.now();

export type ToChild =
  | { cmd: 'ws'; url: string; n: number }
  | { cmd: 'http'; base: string; url: string; n: number }
  | { cmd: 'sample'; on: boolean }
  | { cmd: 'samples' }
  | { cmd: 'disconnect' };
export type FromChild =
  { ev: 'opened'; ok: number; failed: number; resets: number; firstError?: string } | { ev: 'samples'; samples: [number, number][] } | { ev: 'disconnected' };

function childMain(): void {
  const send = (m: FromChild) => process.send!(m);
  let sockets: WebSocket[] = [];
  let sampling = false;
  let samples: [number, number][] = [];
  let opened = 0;
  const agent = new http.Agent({ keepAlive: false, maxSockets: CONNECT_CONCURRENCY });
  // Unsampled clients, paused between reads: resumed in a timer, their sockets are read in the event loop's poll
  // phase that follows, and paused again in its check phase.
  let readLater: WebSocket[] = [];
  setInterval(() => {
    readLater = readLater.filter((ws) => ws.readyState === WebSocket.OPEN);
    for (const ws of readLater) ws.resume();
    setImmediate(() => {
      for (const ws of readLater) ws.pause();
    });
  }, UNSAMPLED_READ_EVERY_MS).unref();

  /** Resolves true once the socket is synced (`until` says when), false on a failure. */
  const open = (url: string, until: (text: string) => 'synced' | 'reset' | null, onFail: (err: string) => void) =>
    new Promise<'synced' | 'reset' | 'failed'>((resolve) => {
      const sampled = opened++ % SAMPLE_EVERY === 0;
      const ws = new WebSocket(url, { perMessageDeflate: false });
      let synced = false;
      ws.on('message', (data: Buffer) => {
        if (!synced) {
          const state = until(data.toString('latin1', 0, Math.min(data.length, 200)) + (data.length > 200 ? data.toString('latin1', data.length - 40) : ''));
          if (state) {
            synced = true;
            if (!sampled) {
              ws.pause();
              readLater.push(ws);
            }
            resolve(state);
          }
          return;
        }
        if (sampling && sampled) {
          const m = /"seq":(\d+)/.exec(data.toString('latin1', 0, 60));
          if (m) samples.push([Number(m[1]), now()]);
        }
      });
      ws.once('error', (err) => {
        onFail(err.message);
        if (!synced) resolve('failed');
      });
      ws.once('close', (code: number, reason: Buffer) => {
        if (synced) return;
        onFail(`closed ${code} ${reason.toString()}`);
        resolve('failed');
      });
      sockets.push(ws);
    });

  async function pool(n: number, one: () => Promise<'synced' | 'reset' | 'failed'>): Promise<FromChild> {
    let next = 0;
    const r = { ev: 'opened' as const, ok: 0, failed: 0, resets: 0, firstError: undefined as string | undefined };
    await Promise.all(
      Array.from({ length: CONNECT_CONCURRENCY }, async () => {
        while (next++ < n) {
          const state = await one();
          if (state === 'synced') r.ok++;
          else if (state === 'reset') r.resets++;
          else r.failed++;
        }
      }),
    );
    return r;
  }

  const getUsers = (base: string) =>
    new Promise<{ seq: string; epoch: string }>((resolve, reject) => {
      const req = http.get(`${base}${PATH}`, { agent, headers: { 'accept-encoding': 'gzip' } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`GET ${PATH} answered ${res.statusCode}`));
        // The body is read in full (not decompressed: the client's cost is not what is measured).
        res.on('data', () => {});
        res.on('end', () => resolve({ seq: String(res.headers['x-icwatch-seq']), epoch: String(res.headers['x-icwatch-epoch']) }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });

  process.on('message', (msg: ToChild) => {
    void (async () => {
      if (msg.cmd === 'ws') {
        let firstError: string | undefined;
        const r = await pool(msg.n, () =>
          open(
            msg.url,
            (t) => (t.includes('"last":true') ? 'synced' : null),
            (e) => (firstError ??= e),
          ),
        );
        send({ ...r, firstError } as FromChild);
      } else if (msg.cmd === 'http') {
        let firstError: string | undefined;
        const r = await pool(msg.n, async () => {
          let head: { seq: string; epoch: string };
          try {
            head = await getUsers(msg.base);
          } catch (err) {
            firstError ??= (err as Error).message;
            return 'failed';
          }
          const url = `${msg.url}?since=${head.seq}&epoch=${encodeURIComponent(head.epoch)}`;
          // Resumed: the hello stands at our epoch and seq (nothing changed meanwhile), or changes follow it; a reset
          // means the resume was refused (a snapshot follows).
          return open(
            url,
            (t) => {
              if (t.includes('"type":"reset"')) return 'reset';
              if (t.includes('"type":"hello"')) {
                const hello = JSON.parse(t) as { epoch: string; seq: number };
                return hello.epoch === head.epoch && String(hello.seq) === head.seq ? 'synced' : null;
              }
              return t.includes('"type":"upsert"') || t.includes('"type":"remove"') ? 'synced' : null;
            },
            (e) => (firstError ??= e),
          );
        });
        send({ ...r, firstError } as FromChild);
      } else if (msg.cmd === 'sample') {
        sampling = msg.on;
        if (msg.on) samples = [];
      } else if (msg.cmd === 'samples') {
        send({ ev: 'samples', samples });
      } else if (msg.cmd === 'disconnect') {
        for (const ws of sockets) ws.terminate();
        sockets = [];
        send({ ev: 'disconnected' });
      }
    })();
  });
}

if (process.env.ICWATCH_CONSUMERS_BENCH_CHILD === '1') childMain();

/** One client process, as the measuring side drives it. */
export class ClientProcess {
  private readonly child: ChildProcess;
  constructor() {
    this.child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, ICWATCH_CONSUMERS_BENCH_CHILD: '1' }, execArgv: ['--import', 'tsx'] });
    if (this.child.pid !== undefined) setPriority(this.child.pid, Math.min(getPriority() + CLIENT_NICENESS, 19));
  }
  request<E extends FromChild['ev']>(msg: ToChild, ev: E, timeoutMs: number): Promise<Extract<FromChild, { ev: E }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', on);
        reject(new Error(`the client process did not answer ${msg.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (m: FromChild) => {
        if (m.ev !== ev) return;
        clearTimeout(timer);
        this.child.off('message', on);
        resolve(m as Extract<FromChild, { ev: E }>);
      };
      this.child.on('message', on);
      this.child.send(msg);
    });
  }
  tell(msg: ToChild): void {
    this.child.send(msg);
  }
  kill(): void {
    this.child.kill();
  }
}
