/**
 * The floor of one fan-out round on this machine, measured in the same run as the consumers bench: one process
 * writes one change-sized buffer to each of N loopback TCP sockets, read as the bench's clients read theirs (one in
 * SAMPLE_EVERY by a process reading each write as it arrives, the others by load processes at the clients' niceness
 * every READ_EVERY_MS). Each write is one syscall, and on loopback its cost includes the receiving side's kernel
 * work: no fan-out server, whatever its design, writes a round to N clients in less time than this on one core.
 */
import { fork } from 'node:child_process';
import net from 'node:net';
import { getPriority, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BatchedReads, connectReadingLittle } from './batched-reads.js';
import { CLIENT_NICENESS, clientShares, confineClients } from './consumers-clients.js';

/** About one live change frame of the consumers bench (one user's statusText changed). */
const FRAME_BYTES = 300;
const ROUNDS = 7;
const PAUSE_MS = 300;

function childMain(port: number, n: number, batched: boolean): void {
  let connected = 0;
  const reads = batched ? new BatchedReads<net.Socket>((s) => !s.destroyed) : undefined;
  for (let i = 0; i < n; i++) {
    const connect = batched ? connectReadingLittle : net.connect;
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      if (++connected === n) process.send!('connected');
    });
    socket.on('data', () => {});
    socket.on('error', () => {});
    reads?.add(socket);
  }
}

const child = process.env.ICWATCH_RAW_ROUND_CHILD;
if (child) {
  const [port, n, batched] = child.split(',').map(Number);
  childMain(port!, n!, batched === 1);
}

/** Median milliseconds of a round of `clients` writes (and µs per write), read by one stopwatch and `loadProcesses` readers. */
export async function rawRound(clients: number, loadProcesses: number): Promise<{ roundMs: number; usPerWrite: number }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    s.setNoDelay(true); // as ws does
    s.on('error', () => {}); // a reader that closes with unread bytes resets its connection
    sockets.push(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 1024, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const readers = clientShares(clients, loadProcesses).map((n, i) => {
    const c = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, ICWATCH_RAW_ROUND_CHILD: `${port},${n},${i === 0 ? 0 : 1}` },
      execArgv: ['--import', 'tsx'],
    });
    if (i > 0 && c.pid !== undefined) setPriority(c.pid, Math.min(getPriority() + CLIENT_NICENESS, 19));
    confineClients(c.pid, 1); // the round is one process's, as one worker's
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
    for (const s of sockets) s.destroy();
    for (const c of readers) c.kill();
    server.close();
  }
}
