/**
 * The control API tests, benchmarks and the demo drive the simulator with (in process; control-http.ts serves
 * the same over HTTP): mutate users, churn, force a full replace, expire sessions, take the connection down,
 * inject faults and raw messages, drop connections, and read what happened.
 */
import type { User } from '../icws/messages.js';
import type { ChurnKind } from './churn.js';
import { DirectoryError } from './directory.js';
import type { Fault } from './faults.js';
import { connectionDownMessage } from './icws-routes.js';
import type { MonitoredMailbox } from './mailboxes.js';
import type { RequestRecord, SimulatorState } from './state.js';

export interface SimulatorControl {
  /** The truth: every user with every property it has (no nulls). */
  users(): User[];
  user(id: string): User | undefined;
  /** Merge; null clears; emits a delta (changed). Throws for an unknown id. */
  setProperties(id: string, props: Record<string, unknown>): void;
  /**
   * A lost message: merge as setProperties does, but send no message to anyone. Only a full replace (a resync, the
   * mirror's periodic verification) brings the change. Throws for an unknown id.
   */
  setPropertiesSilently(id: string, props: Record<string, unknown>): void;
  /** Emits a delta (added). Throws when the id exists. */
  addUser(user: User): void;
  /** Emits a delta (removed). Throws for an unknown id. */
  removeUser(id: string): void;
  /** Emits one delta removing all of them (a mass deletion). Throws for an unknown id, removing none. */
  removeUsers(ids: string[]): void;
  /**
   * The service account stops seeing these users (as after a change of its rights or of the rightsFilter): no
   * message says so, and the next full replace leaves them out. They stay in the directory (`users()`).
   */
  hideUsers(ids: string[]): void;
  /** Seen again (all hidden users when `ids` is absent); the next full replace carries them. */
  showUsers(ids?: string[]): void;
  /** The users hidden from the service account. */
  hiddenUsers(): string[];
  /** `count` deterministic random changes now (from the seed's PRNG). */
  churn(count: number): void;
  setChurnRate(perSec: number): void;
  /** Every subscription gets an isDelta:false message with its users, unasked (as a server may send one at any time). */
  forceFullReplace(): void;
  /** Every session forgotten: its next request gets 401. */
  expireSessions(): void;
  /** Queue a connectionStateChangeMessage (1→2, shouldReconnect true, `reason` e.g. SessionTimeout), then expire. */
  connectionDown(reason?: string): void;
  /** daysUntilPasswordExpiration of later logins (null: not sent). */
  setPasswordExpiryDays(days: number | null): void;
  injectFaults(f: Fault): void;
  /** 400 (real servers, the default) or 401 (the tidy variant) for a refused login from now on. */
  setRefusedLoginStatus(status: 400 | 401): void;
  clearFaults(): void;
  /** Queue this exact text as one message for every session (malformed JSON, unknown __type…). */
  injectRaw(text: string): void;
  /** Destroy every open socket (SSE streams, keep-alive). */
  dropConnections(): void;
  /** {method, path (with ids), route (template), name, status, at} of every ICWS request, in order. */
  readonly requests: RequestRecord[];
  sessions(): { sessionId: string; subscriptions: string[]; queued: number }[];
  mailboxes(workgroupId: string): MonitoredMailbox[] | undefined;
  /** Every CSRF token and session cookie value issued so far (secrets a client must never print). */
  issuedCredentials(): string[];
}

/** Shortest and longest tick of the background churn: many small batches at high rates, one change per tick at low ones. */
const CHURN_TICK_MIN_MS = 20;
const CHURN_TICK_MAX_MS = 1000;
/** How often the background churn logs a summary. */
const CHURN_LOG_EVERY_MS = 10_000;

export class Control implements SimulatorControl {
  private churnTimer?: NodeJS.Timeout;
  private idleTimer: NodeJS.Timeout;
  private churnCounts: Partial<Record<ChurnKind, number>> = {};
  private lastChurnLog = Date.now();

  constructor(
    private readonly state: SimulatorState,
    private readonly drop: () => void,
  ) {
    this.idleTimer = setInterval(() => state.sessions.sweepIdle(state.options.sessionIdleMs), Math.min(30_000, state.options.sessionIdleMs));
    this.idleTimer.unref();
  }

  get requests(): RequestRecord[] {
    return this.state.requests;
  }

  users(): User[] {
    return this.state.users();
  }

  user(id: string): User | undefined {
    const u = this.state.directory.peek(id);
    return u && structuredClone(u);
  }

  setProperties(id: string, props: Record<string, unknown>, lost = false): void {
    if (props === null || typeof props !== 'object' || Array.isArray(props))
      throw new DirectoryError('properties must be a JSON object of property → value (null clears)', 'invalid');
    const user = this.state.directory.peek(id);
    if (!user) throw new DirectoryError(`no user "${id}" to change`, 'unknown');
    const { configurationId: _ignored, ...rest } = props;
    this.state.directory.apply({ changed: [{ configurationId: user.configurationId, ...rest }] }, Date.now(), lost);
  }

  setPropertiesSilently(id: string, props: Record<string, unknown>): void {
    this.setProperties(id, props, true);
  }

  addUser(user: User): void {
    this.state.directory.apply({ added: [user] });
  }

  removeUser(id: string): void {
    this.state.directory.apply({ removed: [id] });
  }

  removeUsers(ids: string[]): void {
    this.state.directory.apply({ removed: this.knownIds(ids, 'remove') });
  }

  hideUsers(ids: string[]): void {
    for (const id of this.knownIds(ids, 'hide')) this.state.hidden.add(id);
  }

  showUsers(ids?: string[]): void {
    if (ids === undefined) this.state.hidden.clear();
    else for (const id of this.knownIds(ids, 'show')) this.state.hidden.delete(id);
  }

  hiddenUsers(): string[] {
    return [...this.state.hidden];
  }

  private knownIds(ids: unknown, what: string): string[] {
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new DirectoryError(`${what}: expected a list of user ids`, 'invalid');
    const unknown = (ids as string[]).find((id) => !this.state.directory.has(id));
    if (unknown !== undefined) throw new DirectoryError(`no user "${unknown}" to ${what}`, 'unknown');
    return ids as string[];
  }

  churn(count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new DirectoryError(`churn count must be a whole number ≥ 0, got ${count}`, 'invalid');
    const done = this.state.churn.run(count);
    this.state.log.debug('churn applied', { count, ...done });
  }

  setChurnRate(perSec: number): void {
    if (typeof perSec !== 'number' || !Number.isFinite(perSec) || perSec < 0)
      throw new DirectoryError(`churn rate must be a number ≥ 0, got ${perSec}`, 'invalid');
    if (this.churnTimer) clearInterval(this.churnTimer);
    this.churnTimer = undefined;
    if (perSec === 0) return;
    const tickMs = Math.min(CHURN_TICK_MAX_MS, Math.max(CHURN_TICK_MIN_MS, Math.round(1000 / perSec)));
    let owed = 0;
    let last = performance.now();
    this.churnTimer = setInterval(() => {
      const now = performance.now();
      owed += ((now - last) / 1000) * perSec;
      last = now;
      const n = Math.floor(owed);
      if (n <= 0) return;
      owed -= n;
      for (const [k, v] of Object.entries(this.state.churn.run(n))) this.churnCounts[k as ChurnKind] = (this.churnCounts[k as ChurnKind] ?? 0) + v;
      if (Date.now() - this.lastChurnLog >= CHURN_LOG_EVERY_MS) this.logChurn();
    }, tickMs);
    this.churnTimer.unref();
  }

  private logChurn(): void {
    const total = Object.values(this.churnCounts).reduce((a, b) => a + b, 0);
    this.state.log.info(`churn: ${total} changes in the last ${Math.round((Date.now() - this.lastChurnLog) / 1000)} s`, {
      ...this.churnCounts,
      users: this.state.directory.size,
    });
    this.churnCounts = {};
    this.lastChurnLog = Date.now();
  }

  forceFullReplace(): void {
    for (const session of this.state.sessions.all()) {
      if (session.down) continue;
      for (const id of session.subscriptions.keys()) this.state.queueFullReplace(session, id);
    }
  }

  expireSessions(): void {
    this.state.sessions.forgetAll();
  }

  connectionDown(reason?: string): void {
    if (reason !== undefined && (typeof reason !== 'string' || reason === ''))
      throw new DirectoryError(`a down reason is a non-empty string such as SessionTimeout, got ${JSON.stringify(reason)}`, 'invalid');
    const text = connectionDownMessage(reason);
    for (const session of this.state.sessions.all()) {
      this.state.sessions.enqueue(session, text);
      // Delivered by the open stream (which then ends), or by the next poll, after which the session is gone.
      session.down = true;
      session.sink?.flush();
    }
  }

  setPasswordExpiryDays(days: number | null): void {
    if (days !== null && (typeof days !== 'number' || !Number.isInteger(days)))
      throw new DirectoryError(`password expiry days must be a whole number or null, got ${JSON.stringify(days)}`, 'invalid');
    this.state.passwordExpiryDays = days;
  }

  injectFaults(f: Fault): void {
    this.state.faults.add(f);
  }

  setRefusedLoginStatus(status: 400 | 401): void {
    if (status !== 400 && status !== 401) throw new DirectoryError(`refused-login status must be 400 or 401, got ${JSON.stringify(status)}`, 'invalid');
    this.state.refusedLoginStatus = status;
  }

  clearFaults(): void {
    this.state.faults.clear();
  }

  injectRaw(text: string): void {
    for (const session of this.state.sessions.all()) if (!session.down) this.state.sessions.enqueue(session, text, true);
  }

  dropConnections(): void {
    this.drop();
  }

  sessions(): { sessionId: string; subscriptions: string[]; queued: number }[] {
    return this.state.sessions.all().map((s) => ({ sessionId: s.id, subscriptions: [...s.subscriptions.keys()], queued: s.queue.length }));
  }

  mailboxes(workgroupId: string): MonitoredMailbox[] | undefined {
    const m = this.state.mailboxes.get(workgroupId);
    return m && structuredClone([...m.values()]);
  }

  issuedCredentials(): string[] {
    return [...this.state.sessions.issued];
  }

  /** Stops the timers (the simulator is closing). */
  stop(): void {
    if (this.churnTimer) clearInterval(this.churnTimer);
    clearInterval(this.idleTimer);
  }
}
