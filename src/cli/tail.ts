/**
 * `icwatch tail`: the reference consumer, built on `icwatch/client` (src/client). Prints one line per change (`<seq> upsert <id> {…}` /
 * `<seq> remove <id>`; with presence `<seq> status <id> {…}`), a summary line per snapshot, and resumes with since/epoch after a close as the close table
 * advises (README, "Close codes"). `--json` prints the raw frames instead. Exits 0 on SIGINT/SIGTERM, 1 after a
 * close whose advice is not to reconnect.
 */
import { IcwatchClient, type ConnectionEndedError, type RefusedError } from '../client/index.js';
import { closeCode } from '../protocol/close-codes.js';
import type { HelloFrame, ServerFrame } from '../protocol/frames.js';
import { registerSecret } from '../log/redact.js';
import { EXIT } from '../errors/exit-codes.js';

export interface TailOptions {
  url?: string;
  since?: number;
  epoch?: string;
  ids?: string;
  props?: string;
  token?: string;
  json?: boolean;
}

export interface TailIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Stops tailing (SIGINT/SIGTERM when not given). */
  signal?: AbortSignal;
}

const list = (v: string | undefined) =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

export async function tailCommand(opts: TailOptions, io: TailIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const token = opts.token ?? process.env.ICWATCH_TOKEN ?? undefined;
  registerSecret(token);
  const url = opts.url ?? 'ws://127.0.0.1:8080/v1/users';
  try {
    const u = new URL(url);
    if (!['ws:', 'wss:', 'http:', 'https:'].includes(u.protocol)) throw new Error('not ws');
  } catch {
    io.stderr.write(`icwatch tail: --url expects a ws://, wss://, http:// or https:// URL, got "${url}"\n`);
    return EXIT.usage;
  }
  const client = new IcwatchClient({ url, token, since: opts.since, epoch: opts.epoch, ids: list(opts.ids), props: list(opts.props) });
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const note = (line: string) => io.stderr.write(`icwatch tail: ${line}\n`);
  let users = 0;

  client.on('frame', (text: string, f: ServerFrame) => {
    if (opts.json) return out(text);
    if (f.type === 'snapshot') {
      users += f.users.length;
      if (f.last) {
        out(`snapshot seq=${f.seq} users=${users}`);
        users = 0;
      }
    } else if (f.type === 'upsert') out(`${f.seq} upsert ${f.id} ${JSON.stringify(f.data)}`);
    else if (f.type === 'status') out(`${f.seq} status ${f.id} ${JSON.stringify(f.data)}`);
    else if (f.type === 'remove') out(`${f.seq} remove ${f.id}`);
    else if (f.type === 'reset') out(`reset reason=${f.reason} epoch=${f.epoch}`);
    else if (f.type === 'error') note(`the server says: ${f.error}`);
  });
  client.on('hello', (f: HelloFrame) => note(`connected to icwatch ${f.version}: epoch ${f.epoch} at seq ${f.seq}`));
  client.on('close', (code: number, reason: string) => {
    const advice = closeCode(code).reconnect;
    if (advice === 'never') return; // 'ended' says it
    note(`connection closed (${code}${reason ? ` ${reason}` : ''}); resuming${advice === 'resume' ? ' at once' : ''} from seq ${client.seq ?? '-'}`);
  });
  client.on('error', (err: Error) => note(err.message));

  const result = await new Promise<number>((resolve) => {
    client.once('refused', (err: RefusedError) => {
      note(err.message);
      resolve(err.status === 400 ? EXIT.usage : EXIT.failure);
    });
    client.once('ended', (err: ConnectionEndedError) => {
      note(err.message);
      resolve(EXIT.failure);
    });
    const stop = () => resolve(EXIT.ok);
    if (io.signal) io.signal.addEventListener('abort', stop, { once: true });
    else {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
    client.start();
  });
  await client.stop();
  return result;
}
