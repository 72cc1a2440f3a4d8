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
import type { RequestRecord, SimulatorState, StatusSubscriptionPut } from './state.js';
import { StatusError, type StatusChange } from './presence.js';
import { Random } from './random.js';
import type { StatusChurnKind } from './status-churn.js';
import { STATUS_MESSAGES_MESSAGE, type StatusMessage, type StatusMessagesMessage, type UserStatus } from '../icws/user-statuses.js';

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

  /** The truth of user statuses: every user's (docs/icws.md "User statuses"). */
  statuses(): UserStatus[];
  status(id: string): UserStatus | undefined;
  /**
   * Changes one user's status (any status property; null clears notes, forwardNumber, until): subscribers get a delta.
   * Any statusId is taken, one the catalogue lacks too. Throws StatusError for an unknown user or a bad change.
   */
  setStatus(id: string, change: StatusChange): void;
  /** `count` status changes now (calls, breaks, log-ins…, from the seed's PRNG). */
  statusChurn(count: number): void;
  /** Background status churn, changes per second (0 stops). */
  setStatusChurnRate(perSec: number): void;
  /**
   * A shift change: `agents` logged-out users log in (available) at random moments within `withinMs`, several per
   * message when they fall close together. Returns their ids (fewer when fewer are logged out).
   */
  shiftChange(agents: number, withinMs: number): string[];
  /** The PUTs of the user-statuses subscription received, oldest first (the last 50). */
  statusSubscriptionPuts(): StatusSubscriptionPut[];
  /** Adds or changes a catalogue entry; subscribers of the catalogue get a statusMessagesMessage. */
  setStatusMessage(entry: StatusMessage): void;
  /** Removes a catalogue entry (by id, case-insensitively); subscribers get statusMessagesRemoved. */
  removeStatusMessage(statusId: string): void;
}

/** Shortest and longest tick of the background churn: many small batches at high rates, one change per tick at low ones. */
const CHURN_TICK_MIN_MS = 20;
const CHURN_TICK_MAX_MS = 1000;
/** How often the background churn logs a summary. */
const CHURN_LOG_EVERY_MS = 10_000;

/**
 * A timer that calls `run(n)` with the changes owed at `perSec` since its last tick (none: undefined): many small
 * batches at high rates, one change per tick at low ones.
 */
function pacedTimer(perSec: number, run: (n: number) => void): NodeJS.Timeout | undefined {
  if (perSec === 0) return undefined;
  const tickMs = Math.min(CHURN_TICK_MAX_MS, Math.max(CHURN_TICK_MIN_MS, Math.round(1000 / perSec)));
  let owed = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    owed += ((now - last) / 1000) * perSec;
    last = now;
    const n = Math.floor(owed);
    if (n <= 0) return;
    owed -= n;
    run(n);
  }, tickMs);
  timer.unref();
  return timer;
}

/** How often a shift change logs in the agents whose moment came. */
const SHIFT_TICK_MS = 50;

export class Control implements SimulatorControl {
  private churnTimer?: NodeJS.Timeout;
  private statusChurnTimer?: NodeJS.Timeout;
  private readonly shiftTimers = new Set<NodeJS.Timeout>();
  private statusChurnCounts: Partial<Record<StatusChurnKind, number>> = {};
  /** Shift changes so far: each one's moments come from the seed and its number. */
  private shifts = 0;
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
    this.churnTimer = pacedTimer(perSec, (n) => {
      for (const [k, v] of Object.entries(this.state.churn.run(n))) this.churnCounts[k as ChurnKind] = (this.churnCounts[k as ChurnKind] ?? 0) + v;
      if (Date.now() - this.lastChurnLog >= CHURN_LOG_EVERY_MS) this.logChurn();
    });
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

  statuses(): UserStatus[] {
    return this.state.presence.all();
  }

  status(id: string): UserStatus | undefined {
    const s = this.state.presence.peek(id);
    return s && structuredClone(s);
  }

  setStatus(id: string, change: StatusChange): void {
    this.state.presence.apply([{ id, change }]);
  }

  statusChurn(count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new StatusError(`status churn count must be a whole number ≥ 0, got ${count}`, 'invalid');
    this.state.statusChurn.run(count);
  }

  setStatusChurnRate(perSec: number): void {
    if (typeof perSec !== 'number' || !Number.isFinite(perSec) || perSec < 0)
      throw new StatusError(`status churn rate must be a number ≥ 0, got ${perSec}`, 'invalid');
    if (this.statusChurnTimer) clearInterval(this.statusChurnTimer);
    let lastLog = Date.now();
    this.statusChurnTimer = pacedTimer(perSec, (n) => {
      const counts = this.statusChurnCounts;
      for (const [k, v] of Object.entries(this.state.statusChurn.run(n))) counts[k as StatusChurnKind] = (counts[k as StatusChurnKind] ?? 0) + v;
      if (Date.now() - lastLog >= CHURN_LOG_EVERY_MS) {
        const total = Object.values(counts).reduce((x, y) => x + y, 0);
        this.state.log.info(`status churn: ${total} changes in the last ${Math.round((Date.now() - lastLog) / 1000)} s`, counts);
        this.statusChurnCounts = {};
        lastLog = Date.now();
      }
    });
  }

  shiftChange(agents: number, withinMs: number): string[] {
    if (!Number.isInteger(agents) || agents < 0) throw new StatusError(`agents must be a whole number ≥ 0, got ${agents}`, 'invalid');
    if (typeof withinMs !== 'number' || !Number.isFinite(withinMs) || withinMs < 0)
      throw new StatusError(`withinMs must be a number of milliseconds ≥ 0, got ${withinMs}`, 'invalid');
    const presence = this.state.presence;
    const ids: string[] = [];
    for (const id of presence.ids((s) => s.loggedIn !== true)) {
      if (ids.length >= agents) break;
      ids.push(id);
    }
    // Each agent's moment, in order: the timer logs in those whose moment came, one message per tick.
    const rng = new Random(this.state.options.seed ^ (0x5a1f7 + ++this.shifts));
    const moments = ids.map(() => rng.next() * withinMs).sort((a, b) => a - b);
    const start = performance.now();
    let next = 0;
    const tick = () => {
      const due = performance.now() - start;
      const changes: { id: string; change: StatusChange }[] = [];
      for (; next < ids.length && moments[next]! <= due; next++)
        if (presence.peek(ids[next]!)) changes.push({ id: ids[next]!, change: this.state.statusChurn.loginChange() });
      if (changes.length) presence.apply(changes);
      if (next >= ids.length) {
        clearInterval(timer);
        this.shiftTimers.delete(timer);
        this.state.log.info(`shift change: ${ids.length} agents logged in within ${Math.round(performance.now() - start)} ms`);
      }
    };
    const timer = setInterval(tick, SHIFT_TICK_MS);
    timer.unref();
    this.shiftTimers.add(timer);
    this.state.log.info(`shift change: ${ids.length} agents log in within ${withinMs} ms`, { asked: agents });
    tick();
    return ids;
  }

  statusSubscriptionPuts(): StatusSubscriptionPut[] {
    return structuredClone(this.state.statusSubscriptionPuts);
  }

  setStatusMessage(entry: StatusMessage): void {
    if (entry === null || typeof entry !== 'object' || typeof entry.statusId !== 'string' || entry.statusId === '' || typeof entry.messageText !== 'string')
      throw new StatusError('a catalogue entry needs a statusId and a messageText (strings)', 'invalid');
    const catalogue = this.state.presence.catalogue;
    const key = entry.statusId.toLowerCase();
    const existed = catalogue.has(key);
    catalogue.set(key, structuredClone(entry));
    this.catalogueChanged(existed ? { statusMessagesChanged: [entry] } : { statusMessagesAdded: [entry] });
  }

  removeStatusMessage(statusId: string): void {
    const catalogue = this.state.presence.catalogue;
    const entry = catalogue.get(String(statusId).toLowerCase());
    if (!entry) throw new StatusError(`no status "${statusId}" in the catalogue`, 'unknown');
    catalogue.delete(entry.statusId.toLowerCase());
    this.catalogueChanged({ statusMessagesRemoved: [entry.statusId] });
  }

  private catalogueChanged(change: Omit<StatusMessagesMessage, '__type' | 'isDelta'>): void {
    const message: StatusMessagesMessage = { __type: STATUS_MESSAGES_MESSAGE, isDelta: true, ...change };
    const text = JSON.stringify(message);
    for (const session of this.state.sessions.all()) if (session.statusMessages && !session.down) this.state.sessions.enqueue(session, text);
  }

  /** Stops the timers (the simulator is closing). */
  stop(): void {
    if (this.statusChurnTimer) clearInterval(this.statusChurnTimer);
    for (const t of this.shiftTimers) clearInterval(t);
    if (this.churnTimer) clearInterval(this.churnTimer);
    clearInterval(this.idleTimer);
  }
}
