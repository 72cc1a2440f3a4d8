/**
 * Which writes landed under which fence, as Redis itself executed them: a MONITOR connection sees every script call
 * of every client in execution order, followed by the commands the script ran (source "lua"). A takeover is the
 * acquire script's HINCRBY of meta's fence; a landed write is the apply script's HSET of meta's seq. A write that
 * landed while carrying a fence other than the current one is a stale write: the thing fencing must make impossible.
 */
import { Redis } from 'ioredis';
import { mirrorKeys, type MirrorKeys } from '../../src/mirror/keys.js';

/** ARGV[8] of apply.lua (the fence): after the command name, the sha or script, numkeys and its keys. */
const fenceArgOf = (args: string[]) => 1 + 1 + 1 + Number(args[2]) + 7;

export interface LandedWrite {
  /** Redis server time, ms. */
  at: number;
  fence: string;
  /** The fence current when it ran. */
  currentFence: number;
  /** The seq after the write, and whether it added change entries. */
  seq: number;
  entries: boolean;
  client: string;
}

export class WriteAudit {
  readonly landed: LandedWrite[] = [];
  /** Apply calls refused for their fence (they ran, wrote nothing). */
  refused = 0;
  /** Redis server time (ms) of each takeover, with the fence it started. */
  readonly takeovers: Array<{ at: number; fence: number }> = [];
  private fence = 0;
  private script?: { args: string[]; client: string; at: number; ran: boolean; wrote: boolean; xadd: boolean; seq?: number };
  private constructor(
    private readonly keys: MirrorKeys,
    private readonly connection: Redis,
  ) {}

  static async start(url: string, prefix: string): Promise<WriteAudit> {
    const keys = mirrorKeys(prefix);
    const probe = new Redis(url);
    const fence = Number((await probe.hget(keys.meta, 'fence')) ?? 0);
    // A monitor connection of our own, its listeners on before MONITOR is sent. ioredis enters monitoring mode a
    // microtask after MONITOR's OK, so lines Redis sent right behind the OK (other clients' commands, such as the
    // INFO of a client connecting meanwhile) are read as replies to nothing and emitted as errors: with
    // `redis.monitor()`, whose own error listener is gone after the first, the second was thrown (seen once in a chaos run).
    // Those lines come before the audit has begun, when no replica runs yet.
    const monitor = new Redis(url, { monitor: true });
    monitor.on('error', () => {});
    const audit = new WriteAudit(keys, monitor);
    audit.fence = fence;
    probe.disconnect();
    monitor.on('monitor', (time: string, args: string[], source: string) => audit.line(Number(time) * 1000, args, source));
    // Not events.once: it would reject on those errors.
    await new Promise((resolve) => monitor.once('monitoring', resolve));
    return audit;
  }

  private line(at: number, args: string[], source: string): void {
    const cmd = args[0]?.toLowerCase();
    if (source !== 'lua') {
      this.closeScript();
      if ((cmd === 'evalsha' || cmd === 'eval') && args[3] === this.keys.meta && args[4] === this.keys.ids)
        this.script = { args, client: source, at, ran: false, wrote: false, xadd: false };
      return;
    }
    if (cmd === 'hincrby' && args[1] === this.keys.meta && args[2] === 'fence') {
      this.fence += Number(args[3]);
      this.takeovers.push({ at, fence: this.fence });
    }
    const s = this.script;
    if (!s) return;
    s.ran = true;
    if (cmd === 'xadd' && args[1] === this.keys.changes) s.xadd = true;
    if (cmd === 'hset' && args[1] === this.keys.meta && args[2] === 'seq') {
      s.wrote = true;
      s.seq = Number(args[3]);
    }
  }

  /** An apply whose fence did not match wrote nothing: count it as refused. */
  private closeScript(): void {
    const s = this.script;
    this.script = undefined;
    if (!s || s.args.length <= fenceArgOf(s.args)) return; // init.lua: the same first keys, one argument
    const fence = s.args[fenceArgOf(s.args)]!;
    if (s.wrote) this.landed.push({ at: s.at, fence, currentFence: this.fence, seq: s.seq!, entries: s.xadd, client: s.client });
    else if (s.ran && fence !== '' && Number(fence) !== this.fence) this.refused++; // (an EVALSHA answered NOSCRIPT ran nothing)
  }

  /** Writes that landed while carrying a fence that was not the current one (or none at all). */
  staleWrites(): LandedWrite[] {
    this.closeScript();
    return this.landed.filter((w) => w.fence === '' || Number(w.fence) !== w.currentFence);
  }

  /** The first write with change entries that landed under `fence`. */
  firstChangeUnder(fence: number): LandedWrite | undefined {
    this.closeScript();
    return this.landed.find((w) => w.entries && Number(w.fence) === fence);
  }

  get currentFence(): number {
    return this.fence;
  }

  stop(): void {
    this.connection.disconnect();
  }
}
