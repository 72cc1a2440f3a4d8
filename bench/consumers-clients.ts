/**
 * The client side of the consumers bench (bench/consumers.bench.ts): a child process holding a share of the
 * clients, driven over IPC. It opens WebSocket clients (snapshot), HTTP-then-WebSocket clients (GET /v1/users,
 * then since/epoch) or clients resuming at a seq and epoch the bench read from the mirror (the presence bench: a
 * resume at the current seq gets no snapshot, only what follows). A process has one of two roles:
 * - `stopwatch`: one client in SAMPLE_EVERY. Each reads every frame as it arrives and, while sampling, notes the
 *   receipt time of each live change. While sampling, the process runs at the bench's own priority, so that a
 *   receipt is noted when the bytes arrive rather than when a deprioritised process gets the core;
 * - `load`: the other clients, read every READ_EVERY_MS (bench/batched-reads.ts). They stand in for consumers on
 *   other machines, which would not take this machine's cores; icwatch writes to them as to any client. Their
 *   processes run CLIENT_NICENESS nicer than icwatch for the same reason.
 * Every client counts the bytes of the live changes it received while sampling: all of them receive the same
 * stream, so a client whose count differs from the stopwatch clients' missed something.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { availableParallelism, getPriority, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { BatchedReads, connectReadingLittle } from './batched-reads.js';

export const SAMPLE_EVERY = 10;
/**
 * Connections being opened at once per 1,000 clients of a process (the listen backlog is finite, snapshots are
 * large). In proportion to its share, every process finishes connecting at about the same time, so the stopwatch
 * clients are spread through icwatch's clients, as in its rounds.
 */
const CONNECT_CONCURRENCY_PER_1000 = 10;
/** How many clients each process holds: the stopwatch's (one in SAMPLE_EVERY) first, then each load process's. */
export function clientShares(clients: number, loadProcesses: number): number[] {
  const sampled = Math.ceil(clients / SAMPLE_EVERY);
  const rest = clients - sampled;
  return [sampled, ...Array.from({ length: loadProcesses }, (_, i) => Math.floor(rest / loadProcesses) + (i < rest % loadProcesses ? 1 : 0))];
}
export const connectConcurrency = (clients: number) => Math.max(1, Math.round((clients * CONNECT_CONCURRENCY_PER_1000) / 1000));
/** How much nicer than icwatch the client processes run. */
export const CLIENT_NICENESS = 10;
/**
 * Keeps a client process off the first `workers` cores (taskset(1)), when the machine has a core more: the
 * consumers it stands in for would run on other machines, so they are kept off the cores icwatch's fan-out workers
 * would have to themselves (icwatch may still use every core). With as many workers as cores there is no core to
 * spare, and the clients run anywhere. True when the process was confined.
 */
export function confineClients(pid: number | undefined, workers: number): boolean {
  const cores = availableParallelism();
  if (pid === undefined || workers >= cores) return false;
  const list = workers === cores - 1 ? String(workers) : `${workers}-${cores - 1}`;
  return spawnSync('taskset', ['-a', '-pc', list, String(pid)], { stdio: 'ignore' }).status === 0;
}
export const PATH = '/v1/users';

export const now = () => performance.timeOrigin + performance.now();

export type Role = 'stopwatch' | 'load';
export type ToChild =
  | { cmd: 'ws'; url: string; n: number }
  | { cmd: 'http'; base: string; url: string; n: number }
  /** `url` without a query; each client resumes with since=seq&epoch=epoch. */
  | { cmd: 'resume'; url: string; seq: number; epoch: string; n: number }
  | { cmd: 'sample'; on: boolean }
  | { cmd: 'samples' }
  | { cmd: 'disconnect' };
export type FromChild =
  | { ev: 'opened'; ok: number; failed: number; resets: number; firstError?: string }
  /** samples: [seq, receipt time] (stopwatch); bytes: [live-change bytes received while sampling, clients]. */
  | { ev: 'samples'; samples: [number, number][]; bytes: [number, number][] }
  | { ev: 'disconnected' };

function childMain(role: Role): void {
  const send = (m: FromChild) => process.send!(m);
  let sockets: { ws: WebSocket; bytes: number }[] = [];
  let sampling = false;
  let samples: [number, number][] = [];
  let agent: http.Agent | undefined;
  const readLater = new BatchedReads<WebSocket>((ws) => ws.readyState === WebSocket.OPEN);

  /** Resolves true once the socket is synced (`until` says when), false on a failure. */
  const open = (url: string, until: (text: string) => 'synced' | 'reset' | null, onFail: (err: string) => void) =>
    new Promise<'synced' | 'reset' | 'failed'>((resolve) => {
      const sampled = role === 'stopwatch';
      const ws = new WebSocket(url, { perMessageDeflate: false, createConnection: sampled ? undefined : connectReadingLittle });
      const client = { ws, bytes: 0 };
      let synced = false;
      ws.on('message', (data: Buffer) => {
        if (!synced) {
          const state = until(data.toString('latin1', 0, Math.min(data.length, 200)) + (data.length > 200 ? data.toString('latin1', data.length - 40) : ''));
          if (state) {
            synced = true;
            if (!sampled) readLater.add(ws);
            resolve(state);
          }
          return;
        }
        if (!sampling) return;
        client.bytes += data.length;
        if (sampled) {
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
      sockets.push(client);
    });

  async function pool(n: number, one: () => Promise<'synced' | 'reset' | 'failed'>): Promise<FromChild> {
    let next = 0;
    const r = { ev: 'opened' as const, ok: 0, failed: 0, resets: 0, firstError: undefined as string | undefined };
    const concurrency = connectConcurrency(n);
    agent = new http.Agent({ keepAlive: false, maxSockets: concurrency });
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
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

  /**
   * Opens a client resuming at `head`: synced once its hello stands at that epoch and seq (nothing changed meanwhile)
   * or changes follow it; a reset means the resume was refused (a snapshot follows).
   */
  const resume = (url: string, head: { seq: string; epoch: string }, onFail: (err: string) => void) =>
    open(
      `${url}?since=${head.seq}&epoch=${encodeURIComponent(head.epoch)}`,
      (t) => {
        if (t.includes('"type":"reset"')) return 'reset';
        if (t.includes('"type":"hello"')) {
          const hello = JSON.parse(t) as { epoch: string; seq: number };
          return hello.epoch === head.epoch && String(hello.seq) === head.seq ? 'synced' : null;
        }
        return t.includes('"type":"upsert"') || t.includes('"type":"remove"') || t.includes('"type":"status"') ? 'synced' : null;
      },
      onFail,
    );

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
          return resume(msg.url, head, (e) => (firstError ??= e));
        });
        send({ ...r, firstError } as FromChild);
      } else if (msg.cmd === 'resume') {
        let firstError: string | undefined;
        const head = { seq: String(msg.seq), epoch: msg.epoch };
        const r = await pool(msg.n, () => resume(msg.url, head, (e) => (firstError ??= e)));
        send({ ...r, firstError } as FromChild);
      } else if (msg.cmd === 'sample') {
        sampling = msg.on;
        if (msg.on) {
          samples = [];
          for (const c of sockets) c.bytes = 0;
        }
      } else if (msg.cmd === 'samples') {
        const bytes = new Map<number, number>();
        for (const c of sockets) bytes.set(c.bytes, (bytes.get(c.bytes) ?? 0) + 1);
        send({ ev: 'samples', samples, bytes: [...bytes] });
      } else if (msg.cmd === 'disconnect') {
        for (const c of sockets) c.ws.terminate();
        sockets = [];
        send({ ev: 'disconnected' });
      }
    })();
  });
}

const childRole = process.env.ICWATCH_CONSUMERS_BENCH_CHILD;
if (childRole === 'stopwatch' || childRole === 'load') childMain(childRole);

/** One client process, as the measuring side drives it. */
export class ClientProcess {
  private readonly child: ChildProcess;
  /** Whether the process was kept off the workers' cores (confineClients). */
  readonly confined: boolean;
  constructor(
    readonly role: Role,
    workers: number,
  ) {
    this.child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, ICWATCH_CONSUMERS_BENCH_CHILD: role }, execArgv: ['--import', 'tsx'] });
    this.deprioritise(true);
    this.confined = confineClients(this.child.pid, workers);
  }
  /** CLIENT_NICENESS nicer than the bench, or (false) as nice as the bench; false when the system refused. */
  deprioritise(on: boolean): boolean {
    if (this.child.pid === undefined) return false;
    try {
      setPriority(this.child.pid, Math.min(getPriority() + (on ? CLIENT_NICENESS : 0), 19));
      return true;
    } catch {
      return false; // lowering the niceness again needs CAP_SYS_NICE: the stopwatch then stays deprioritised
    }
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
