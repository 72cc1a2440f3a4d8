/**
 * The floor of one fan-out round on this machine, measured in the same run as the consumers bench: one process
 * writes one change-sized buffer to each of N loopback TCP sockets, which other processes (at the clients'
 * niceness) read. Each write is one syscall, and on loopback its cost includes the receiving side's kernel work: no
 * fan-out server, whatever its design, writes a round to N clients in less time than this on one core.
 */
import { fork } from 'node:child_process';
import net from 'node:net';
import { getPriority, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

/** About one live change frame of the consumers bench (one user's statusText changed). */
const FRAME_BYTES = 300;
const ROUNDS = 7;
const PAUSE_MS = 300;

function childMain(port: number, n: number): void {
  let connected = 0;
  for (let i = 0; i < n; i++) {
    const socket = net.connect(port, '127.0.0.1', () => {
      if (++connected === n) process.send!('connected');
    });
    socket.on('data', () => {});
    socket.on('error', () => {});
  }
}

const child = process.env.ICWATCH_RAW_ROUND_CHILD;
if (child) {
  const [port, n] = child.split(',').map(Number);
  childMain(port!, n!);
}

/** Median milliseconds of a round of `clients` writes (and µs per write), the sockets spread over `processes` readers. */
export async function rawRound(clients: number, processes: number, niceness: number): Promise<{ roundMs: number; usPerWrite: number }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    s.setNoDelay(true); // as ws does
    sockets.push(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 1024, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const share = (i: number) => Math.floor(clients / processes) + (i < clients % processes ? 1 : 0);
  const readers = Array.from({ length: processes }, (_, i) => {
    const c = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, ICWATCH_RAW_ROUND_CHILD: `${port},${share(i)}` },
      execArgv: ['--import', 'tsx'],
    });
    if (c.pid !== undefined) setPriority(c.pid, Math.min(getPriority() + niceness, 19));
    return c;
  });
  try {
    await Promise.all(readers.map((c) => new Promise((resolve) => c.once('message', resolve))));
    while (sockets.length < clients) await new Promise((r) => setTimeout(r, 50));
    const frame = Buffer.alloc(FRAME_BYTES, 'x');
    const rounds: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      for (const s of sockets) s.write(frame);
      rounds.push(performance.now() - t0);
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
    rounds.sort((a, b) => a - b);
    const roundMs = rounds[Math.floor(ROUNDS / 2)]!;
    return { roundMs, usPerWrite: (roundMs * 1000) / clients };
  } finally {
    for (const c of readers) c.kill();
    for (const s of sockets) s.destroy();
    server.close();
  }
}
