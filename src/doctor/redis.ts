/**
 * The Redis checks of `icwatch doctor`: Redis answers with the configured mode, URL and TLS (the daemon's own client
 * builder), the user may run every command icwatch sends (REDIS_COMMANDS_USED) on the mirror's keys and channels,
 * and what the mirror holds (epoch, seq, users, leader).
 *
 * Permissions are read with ACL DRYRUN (Redis ≥ 7) when the user may run it: nothing is executed, and the mirror's
 * real keys are checked. A least-privilege user may not (it is an admin command); then each command is tried for real
 * on scratch keys under the mirror's prefix (`{P}:doctor:<random>:…`, deleted after): Redis checks the ACL before it
 * runs anything, so a NOPERM reply means "not allowed", and any other reply, errors such as NOSCRIPT included, "allowed".
 */
import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { Config } from '../config/defaults.js';
import { createRedisClient, describeRedis, firstAttempt, quitRedis, type RedisClient } from '../redis/client.js';
import { silentLogger } from '../log/logger.js';
import { MirrorReader } from '../mirror/reader.js';
import { commandsFor, commandWords, type RedisCommandUse } from '../mirror/redis-commands.js';
import { fail, pass, warn, type CheckResult } from './report.js';

/** What a refusal was about: the command itself, or the keys or channels it names. */
type Refusal = 'command' | 'key' | 'channel';

interface Missing {
  use: RedisCommandUse;
  refusal: Refusal;
}

function refusalOf(text: string): Refusal | undefined {
  if (!/no permissions/i.test(text)) return undefined;
  if (/\bkeys?\b/i.test(text)) return 'key';
  if (/\bchannels?\b/i.test(text)) return 'channel';
  return 'command';
}

/** Commands tried on a connection of their own: they change the state of the one they run on. */
const CONNECTION_STATE = new Set(['subscribe', 'unsubscribe', 'quit', 'select']);

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class RedisChecks {
  private client: RedisClient | undefined;
  private lastError = '';
  private readonly tag: string;

  constructor(private readonly config: Config) {
    this.tag = `{${config.redis.keyPrefix}}`;
  }

  /** The ACL user the connection runs as (redis.url's user name, else Redis's `default`). */
  private get user(): string {
    return decodeURIComponent(new URL(this.config.redis.url).username) || 'default';
  }

  async reachable(timeoutMs: number): Promise<CheckResult> {
    const redis = this.config.redis;
    const where = describeRedis(redis);
    const tls = new URL(redis.url).protocol === 'rediss:' ? 'TLS' : 'no TLS';
    const client = createRedisClient(redis, silentLogger(), { connectTimeoutMs: timeoutMs, maxRetriesPerRequest: 1, connectionName: 'icwatch-doctor' });
    this.client = client;
    client.on('error', (err: Error) => (this.lastError = err.message));
    await firstAttempt(client, timeoutMs);
    let pong: string | undefined;
    try {
      if (client.status === 'ready') pong = await client.ping();
    } catch (err) {
      this.lastError = messageOf(err);
    }
    if (pong !== 'PONG') {
      const why = this.lastError || `no connection within ${timeoutMs} ms`;
      const auth = /WRONGPASS|NOAUTH|invalid password|invalid username/i.test(why);
      return fail(
        `no answer from ${where} (${tls}): ${why}`,
        auth
          ? 'check the user name and password in redis.url (percent-encode special characters)'
          : `check redis.url${redis.mode === 'standalone' ? '' : ', redis.nodes'} and redis.mode, that Redis runs, and the firewall${tls === 'TLS' ? "; for rediss:// that Redis's certificate is trusted here" : ''}`,
      );
    }
    let version = 'version unknown (INFO refused)';
    try {
      const info = await client.info('server');
      const v = /redis_version:(\S+)/.exec(info)?.[1];
      if (v) version = `Redis ${v}`;
    } catch {
      // INFO is optional for icwatch; the ACL check says so when it is refused.
    }
    return pass(`${version} at ${where} (${redis.mode}, ${tls}), as user ${this.user}`);
  }

  async permissions(): Promise<CheckResult> {
    const client = this.client!;
    const uses = commandsFor(this.config.redis);
    let method: 'ACL DRYRUN' | 'trying each command on scratch keys';
    let missing: Missing[];
    const dryrun = await this.dryrun(client, uses);
    if (dryrun) {
      method = 'ACL DRYRUN';
      missing = dryrun;
    } else {
      method = 'trying each command on scratch keys';
      missing = await this.tryEach(client, uses);
    }
    const required = missing.filter((m) => !m.use.optional);
    const optional = missing.filter((m) => m.use.optional);
    const names = (list: Missing[]) =>
      list.map((m) => `${m.use.command.toUpperCase().replace('|', ' ')}${m.refusal === 'command' ? '' : ` (${m.refusal}s)`}`).join(', ');
    const checked = `${uses.length} commands checked by ${method}`;
    if (!missing.length) return pass(`user ${this.user} may run every command icwatch uses on ${this.tag}:* (${checked})`);
    const line = `ACL SETUSER ${this.user} ${this.aclRules(missing)}`;
    if (!required.length) {
      return warn(`user ${this.user} lacks ${names(optional)}, which icwatch can do without (${checked})`, `to add: ${line}`);
    }
    return fail(
      `user ${this.user} may not run ${names(required)}${optional.length ? `; also missing (optional) ${names(optional)}` : ''} (${checked})`,
      `add to the user's ACL (README "Redis ACL"): ${line}`,
    );
  }

  /** The ACL rules that grant what is missing. */
  private aclRules(missing: Missing[]): string {
    const rules = new Set<string>();
    for (const m of missing) {
      if (m.refusal === 'command') rules.add(`+${m.use.command}`);
      else if (m.refusal === 'key') rules.add(`~${this.tag}:*`);
      else rules.add(`&${this.tag}:*`);
    }
    return [...rules].join(' ');
  }

  /** The refusals ACL DRYRUN reports, or undefined when the user may not run ACL DRYRUN (or Redis is older than 7). */
  private async dryrun(client: RedisClient, uses: RedisCommandUse[]): Promise<Missing[] | undefined> {
    try {
      await client.call('ACL', 'DRYRUN', this.user, 'PING');
    } catch {
      return undefined;
    }
    const key = (name: string) => `${this.tag}:${name}`;
    const missing: Missing[] = [];
    for (const use of uses) {
      let reply: unknown;
      try {
        reply = await client.call('ACL', 'DRYRUN', this.user, ...commandWords(use.command), ...use.args(key));
      } catch (err) {
        reply = messageOf(err);
      }
      const refusal = typeof reply === 'string' ? refusalOf(reply) : undefined;
      if (refusal) missing.push({ use, refusal });
    }
    return missing;
  }

  /** Runs each command on scratch keys; NOPERM = missing. The scratch keys are deleted after. */
  private async tryEach(client: RedisClient, uses: RedisCommandUse[]): Promise<Missing[]> {
    const scratch = `${this.tag}:doctor:${randomBytes(4).toString('hex')}:`;
    const key = (name: string) => `${scratch}${name}`;
    const missing: Missing[] = [];
    for (const use of uses) {
      try {
        // Commands that change the connection's state (subscriber mode, database, closing) get a connection of their own.
        if (CONNECTION_STATE.has(use.command)) await this.onSeparateConnection(client, use, key);
        else await client.call(...(commandWords(use.command) as [string, ...string[]]), ...use.args(key));
      } catch (err) {
        const refusal = /NOPERM/.test(messageOf(err)) ? (refusalOf(messageOf(err)) ?? 'command') : undefined;
        if (refusal) missing.push({ use, refusal });
      }
    }
    const written = ['doctor', 'meta', 'ids', 'changes', 'leader'].map(key);
    await client.call('DEL', ...written).catch(() => Promise.all(written.map((k) => client.call('PEXPIRE', k, '1').catch(() => undefined))));
    return missing;
  }

  private async onSeparateConnection(client: RedisClient, use: RedisCommandUse, key: (name: string) => string): Promise<void> {
    const other: RedisClient = client instanceof Cluster ? client.duplicate() : client.duplicate();
    other.on('error', () => undefined);
    try {
      if (use.command === 'quit') await other.quit();
      else if (use.command === 'subscribe') await other.subscribe(...use.args(key));
      else if (use.command === 'unsubscribe') await other.unsubscribe(...use.args(key));
      else await other.call(...(commandWords(use.command) as [string, ...string[]]), ...use.args(key));
    } finally {
      other.disconnect();
    }
  }

  /** What the mirror holds: {P}:meta and the leader lease {P}:leader. */
  async mirror(): Promise<CheckResult> {
    const reader = new MirrorReader(this.client!, this.config.redis.keyPrefix);
    try {
      const meta = await reader.meta();
      const leader = await reader.leaderLease();
      const lease = leader
        ? `leader ${leader.holder} (lease ${(Math.max(0, leader.remainingMs) / 1000).toFixed(1)} s left)`
        : 'no leader now (no replica running, or its lease expired)';
      if (!meta.epoch) return pass(`no mirror under ${this.tag} yet (the first start creates it); ${lease}`);
      const synced = meta.syncedAt ? `, synced ${new Date(meta.syncedAt).toISOString()}` : '';
      const syncing = meta.syncing ? ', a full replace under way' : '';
      return pass(`epoch ${meta.epoch}, seq ${meta.seq ?? 0}, ${meta.users ?? 0} users${synced}${syncing}; ${lease}`);
    } catch (err) {
      return fail(`cannot read ${reader.keyNames.meta}: ${messageOf(err)}`, 'see the ACL check above');
    }
  }

  async close(): Promise<void> {
    if (this.client) await quitRedis(this.client);
    this.client = undefined;
  }
}
