/**
 * `icwatch removals [--list | --apply | --discard] [-c FILE]`: the removals the delete guard holds (README "Mass
 * deletions are held"). Talks to Redis with the normal configuration, so it works from any replica's.
 *
 * `--list` reads the held ids and the hold's info (`{P}:held`, `{P}:held:info`, through MirrorReader). `--apply` and
 * `--discard` are the leader's to carry out, in order with the messages it writes: the request goes into the hold's
 * info (compare and set: one at a time) with a wake-up published to the leader (HeldRequestSender), and the command
 * waits until the hold is gone. A request no leader took within `--timeout`
 * is withdrawn (nothing changed) and the command exits 1.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/defaults.js';
import { createRedisClient, describeRedis, firstAttempt, quitRedis } from '../redis/client.js';
import { EXIT } from '../errors/exit-codes.js';
import { silentLogger } from '../log/logger.js';
import { redactText } from '../log/redact.js';
import { parseHeldRequest, takenValue } from '../mirror/held.js';
import { HeldRequestSender } from '../mirror/held-requests.js';
import { MirrorReader } from '../mirror/reader.js';
import { sleep } from '../util/backoff.js';
import { loadOrExplain } from './load-config.js';

export interface RemovalsOptions {
  config?: string;
  list?: boolean;
  apply?: boolean;
  discard?: boolean;
  /** How long the leader may take, in ms. */
  timeout?: number;
}

export interface RemovalsIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Default of --timeout: a leader takes a request within its next write, and applies a hold of 100,000 in seconds. */
export const REMOVALS_TIMEOUT_MS = 30_000;
/** How often the command looks whether the hold is gone, and publishes its request again while nobody took it. */
const POLL_MS = 200;
const REPUBLISH_MS = 2000;

export async function removalsCommand(opts: RemovalsOptions, io: RemovalsIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const actions = (['list', 'apply', 'discard'] as const).filter((a) => opts[a]);
  if (actions.length > 1) {
    io.stderr.write(`icwatch removals: choose one of --list, --apply, --discard (got ${actions.map((a) => `--${a}`).join(', ')})\n`);
    return EXIT.usage;
  }
  const config = loadOrExplain({ file: opts.config });
  if (typeof config === 'number') return config;
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const fail = (line: string) => io.stderr.write(`icwatch removals: ${redactText(line)}\n`);

  let lastError = '';
  const redis = createRedisClient(config.redis, silentLogger(), { connectionName: 'icwatch-removals' });
  redis.on('error', (err: Error) => (lastError = err.message));
  try {
    await firstAttempt(redis);
    if (redis.status !== 'ready') {
      fail(`cannot reach Redis at ${describeRedis(config.redis)}${lastError ? `: ${lastError}` : ''}`);
      return EXIT.failure;
    }
    const reader = new MirrorReader(redis, config.redis.keyPrefix);
    const action = actions[0] ?? 'list';
    if (action === 'list') return await list(reader, out);
    const sender = new HeldRequestSender(redis, config.redis.keyPrefix);
    return await request(reader, sender, config, action, opts.timeout ?? REMOVALS_TIMEOUT_MS, out, fail);
  } catch (err) {
    fail(`Redis at ${describeRedis(config.redis)}: ${(err as Error).message}`);
    return EXIT.failure;
  } finally {
    await quitRedis(redis);
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? '?' : new Date(ms).toISOString());

async function list(reader: MirrorReader, out: (line: string) => void): Promise<number> {
  const held = await reader.heldRemovals();
  const ids = held.ids.sort();
  if (!held.info) {
    out('no removals are held');
    return EXIT.ok;
  }
  const info = held.info;
  out(`${ids.length} removals held since ${iso(info.since)} (last held or confirmed ${iso(info.updatedAt)})`);
  if (info.why) out(`why: ${info.why}`);
  const pending = parseHeldRequest(info.request);
  if (pending) out(`request: ${pending.action} (${info.request === pending.value ? 'waiting for the leader' : 'the leader is carrying it out'})`);
  out('held ids:');
  for (const id of ids) out(id);
  return EXIT.ok;
}

async function request(
  reader: MirrorReader,
  sender: HeldRequestSender,
  config: Config,
  action: 'apply' | 'discard',
  timeoutMs: number,
  out: (line: string) => void,
  fail: (line: string) => void,
): Promise<number> {
  const count = await reader.heldCount();
  if (!count) {
    out(`no removals are held; nothing to ${action}`);
    return EXIT.ok;
  }
  const value = `${action}:${randomBytes(6).toString('hex')}`;
  const made = await sender.swap('', value);
  if (made.kind === 'none') {
    out(`no removals are held; nothing to ${action}`);
    return EXIT.ok;
  }
  if (made.kind === 'other') {
    fail(`another request is pending (${made.current}); wait for the leader to carry it out (icwatch removals --list)`);
    return EXIT.failure;
  }
  await sender.wakeLeader(value);
  out(`asked the leader to ${action} the ${count} held removals; waiting (up to ${Math.round(timeoutMs / 1000)} s)`);
  let deadline = Date.now() + timeoutMs;
  let lastPublish = Date.now();
  let taken = false;
  for (;;) {
    const [held, field] = await Promise.all([reader.heldCount(), reader.heldRequest()]);
    if (!held) {
      out(
        action === 'apply'
          ? `applied: the leader removed the ${count} held users (ordinary remove entries in ${reader.keyNames.changes})`
          : `discarded: the ${count} users stay in the mirror and are no longer held`,
      );
      return EXIT.ok;
    }
    if (field !== value && field !== takenValue(value)) {
      fail(
        `the hold changed before the leader finished the request (${held} removals held now, request ${field ? `"${field}"` : 'gone'}); see icwatch removals --list`,
      );
      return EXIT.failure;
    }
    if (field === takenValue(value) && !taken) {
      taken = true;
      // The leader is on it: give it the time it needs, once more.
      deadline = Date.now() + timeoutMs;
    }
    if (Date.now() >= deadline) {
      if (taken) {
        fail(
          `the leader took the request but the hold is not gone after ${Math.round((2 * timeoutMs) / 1000)} s (${held} still held); it goes on: see icwatch removals --list`,
        );
        return EXIT.failure;
      }
      const withdrawn = await sender.swap(value, '');
      if (withdrawn.kind === 'ok') {
        fail(
          `no icwatch leader took the request within ${Math.round(timeoutMs / 1000)} s: is \`icwatch run\` leading with this Redis (${describeRedis(config.redis)}) and redis.keyPrefix ${config.redis.keyPrefix}? The request was withdrawn; nothing changed`,
        );
        return EXIT.failure;
      }
      // Taken meanwhile: wait for it.
      continue;
    }
    if (!taken && Date.now() - lastPublish >= REPUBLISH_MS) {
      // The publish is only a wake-up: a leader that was reconnecting missed it.
      await sender.wakeLeader(value);
      lastPublish = Date.now();
    }
    await sleep(POLL_MS);
  }
}
