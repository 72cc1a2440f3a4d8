/** Drives a real IcwsUsersFeed (and the pipeline's reading steps) against a real simulator: config with small bounds, recording of messages and states. */
import type { Subscription } from 'rxjs';
import { DEFAULTS, type Config } from '../../src/config/defaults.js';
import type { SessionState } from '../../src/icws/feed.js';
import { USERS_MESSAGE, type ReceivedUsersMessage, type User } from '../../src/icws/messages.js';
import { sentUserOf, type ReadUser } from '../../src/icws/read-users.js';
import type { ArrivingUsers } from '../../src/icws/arriving-users.js';
import { IcwsUsersFeed } from '../../src/icws/users-feed.js';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { actOnSessionMessages, keepOurSubscription, parseItems } from '../../src/pipeline/session-messages.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { Simulator } from '../../src/simulator/index.js';
import { waitFor } from '../helpers/net.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Small backoff without jitter (delays are then exact and comparable), fast polls, short timeouts. */
export function testConfig(url: string, over: DeepPartial<Config> = {}): Config {
  const c = structuredClone(DEFAULTS);
  c.icws = {
    ...c.icws,
    url,
    password: 'icwatch',
    pollIntervalMs: 20,
    requestTimeoutMs: 2000,
    sseIdleTimeoutMs: 3000,
    backoff: { initialMs: 10, maxMs: 400, multiplier: 2, jitter: 0 },
    ...over.icws,
  } as Config['icws'];
  c.subscription = { ...c.subscription, ...over.subscription };
  return c;
}

/** The message with the users a full replace carries as read (readUsers, src/icws/read-users.ts) as ICWS sent them, in `added`. */
export function withParsedUsers<M>(message: M): M {
  const { readUsers, ...rest } = message as { readUsers?: Parameters<typeof sentUserOf>[0][] };
  if (!readUsers) return message;
  return { ...rest, added: readUsers.map(sentUserOf) } as M;
}

/** Takes every user of a full replace as it arrives, into `added` as ICWS sent it, until the replace ends. */
async function drain(users: ArrivingUsers, added: User[]): Promise<void> {
  for (;;) {
    for (let user = users.next(); user; user = users.next()) added.push(sentUserOf(user as ReadUser) as User);
    if (users.ended) return;
    await users.whenMore();
  }
}

export class FeedProbe {
  readonly metrics = new Metrics({ defaultMetrics: false });
  readonly feed: IcwsUsersFeed;
  readonly messages: ReceivedUsersMessage[] = [];
  readonly states: SessionState[] = [];
  /** Every log line the feed wrote (JSON). */
  readonly logLines: string[] = [];
  error?: unknown;
  completed = false;
  /** Full replaces whose users are still arriving. */
  private readonly arriving = new Set<ReceivedUsersMessage>();
  private readonly logger: Logger;
  private readonly subs: Subscription[] = [];

  constructor(config: Config) {
    const stream = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.logLines.push(chunk.toString());
        done();
      },
    });
    this.logger = createLogger({ level: 'debug', stream });
    this.feed = new IcwsUsersFeed(config, { metrics: this.metrics, logger: this.logger });
    this.subs.push(this.feed.state$.subscribe((s) => this.states.push(s)));
  }

  /** Subscribes the feed (cold: this logs in) through the pipeline's first steps, up to our usersMessages. */
  start(): this {
    const steps = { metrics: this.metrics, logger: this.logger };
    this.subs.push(
      this.feed.items$.pipe(parseItems(steps), actOnSessionMessages(steps), keepOurSubscription(steps)).subscribe({
        next: (m) => {
          if (m.message.__type !== USERS_MESSAGE) return;
          const { arrivingUsers, ...message } = m.message;
          if (!arrivingUsers) return void this.messages.push({ ...m, message: withParsedUsers(m.message) });
          // A full replace handed on as its users began (src/icws/arriving-users.ts): in its place in the order,
          // its users in `added` as ICWS sent them once all arrived.
          const added: User[] = [];
          const received = { ...m, message: { ...message, added } };
          this.messages.push(received);
          this.arriving.add(received);
          void drain(arrivingUsers, added).then(() => this.arriving.delete(received));
        },
        error: (e: unknown) => (this.error = e),
        complete: () => (this.completed = true),
      }),
    );
    return this;
  }

  /** The full replaces that arrived whole (one whose users still arrive is left out). */
  fullReplaces(): ReceivedUsersMessage[] {
    return this.messages.filter((m) => !m.message.isDelta && !this.arriving.has(m));
  }

  /** Waits for the n-th full replace (1-based) and returns it. */
  fullReplace(n: number, timeoutMs?: number): Promise<ReceivedUsersMessage> {
    return waitFor(`full replace #${n}`, () => this.fullReplaces()[n - 1], timeoutMs);
  }

  async counter(name: 'messages' | 'icwsReconnects', labels: Record<string, string>): Promise<number> {
    const got = await this.metrics[name].get();
    return got.values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((a, v) => a + v.value, 0);
  }

  async close(): Promise<void> {
    await this.feed.stop();
    for (const s of this.subs) s.unsubscribe();
  }
}

/** The simulator and probe of each test of a suite, both closed after each test. */
export function feedFixture(): { sim: Simulator; probe: FeedProbe } {
  const f = {} as { sim: Simulator; probe: FeedProbe };
  afterEach(async () => {
    await f.probe?.close();
    await f.sim?.close();
    Object.assign(f, { probe: undefined, sim: undefined });
  });
  return f;
}
