/**
 * Status churn as a contact centre makes it, deterministic from the seed: agents go on and off the phone many times an
 * hour, take follow-up after a call, breaks and lunch, come back, log in and out; and, on demand, a shift change
 * (thousands of agents logging in within a minute). Changes are grouped into messages of one to a few users, as a
 * server sends several changes that fall within one second as one (docs/icws.md "User statuses").
 */
import type { UserStatus } from '../icws/user-statuses.js';
import { LOGGED_OUT_STATUS, type Presence, type StatusChange } from './presence.js';
import { Random } from './random.js';

export type StatusChurnKind = 'call' | 'hangup' | 'break' | 'back' | 'login' | 'logout';

/** What share of changes each kind is: calls dominate, log-ins and log-outs are rare. */
const KINDS: [StatusChurnKind, number][] = [
  ['call', 0.34],
  ['hangup', 0.34],
  ['break', 0.08],
  ['back', 0.14],
  ['login', 0.05],
  ['logout', 0.05],
];
const BREAKS = ['At Lunch', 'Away from desk', 'In a Meeting'];
const MAX_USERS_PER_MESSAGE = 4;

const changeOf = (id: string | undefined, change: StatusChange) => (id === undefined ? undefined : { id, change });
const available = (s: UserStatus) => s.loggedIn === true && /^available/i.test(s.statusId);

export class StatusChurn {
  private readonly rng: Random;

  constructor(
    private readonly presence: Presence,
    seed: number,
    private readonly icServer: string,
  ) {
    this.rng = new Random(seed ^ 0x5c4a77);
  }

  /** Applies `count` changes now; returns the count of each kind applied. */
  run(count: number, nowMs = Date.now()): Partial<Record<StatusChurnKind, number>> {
    const done: Partial<Record<StatusChurnKind, number>> = {};
    let left = count;
    while (left > 0) {
      const size = this.rng.chance(0.7) ? 1 : Math.min(left, this.rng.int(2, MAX_USERS_PER_MESSAGE));
      const changes: { id: string; change: StatusChange }[] = [];
      const used = new Set<string>();
      for (let i = 0; i < size; i++) {
        const kind = this.kind();
        const picked = this.change(kind, used);
        if (!picked) continue;
        changes.push(picked);
        done[kind] = (done[kind] ?? 0) + 1;
      }
      left -= size;
      if (changes.length) this.presence.apply(changes, nowMs);
      if (this.presence.size === 0) break;
    }
    return done;
  }

  /** The change of a shift change: the agent logs in, available, at a station. */
  loginChange(): StatusChange {
    return { loggedIn: true, statusId: 'Available', onPhone: false, stations: [`Station${this.rng.int(100, 999)}`], icServers: [this.icServer] };
  }

  private kind(): StatusChurnKind {
    let r = this.rng.next();
    for (const [kind, weight] of KINDS) {
      if (r < weight) return kind;
      r -= weight;
    }
    return 'call';
  }

  /** A random user whose status passes `test`, not yet in this message (a few tries). */
  private pick(used: Set<string>, test: (s: UserStatus) => boolean): string | undefined {
    const ids = this.presence.size;
    if (!ids) return undefined;
    for (let tries = 0; tries < 12; tries++) {
      const id = this.randomId();
      const s = id === undefined ? undefined : this.presence.peek(id);
      if (id !== undefined && s && !used.has(id) && test(s)) {
        used.add(id);
        return id;
      }
    }
    return undefined;
  }

  private randomIds: string[] = [];
  private randomIdsAt = 0;
  /** A random user id: the ids are listed again after as many picks as there are users (the directory changes). */
  private randomId(): string | undefined {
    if (!this.randomIds.length || ++this.randomIdsAt >= this.randomIds.length) {
      this.randomIds = [...this.presence.ids()];
      this.randomIdsAt = 0;
    }
    return this.randomIds[this.rng.int(0, this.randomIds.length - 1)];
  }

  private change(kind: StatusChurnKind, used: Set<string>): { id: string; change: StatusChange } | undefined {
    const rng = this.rng;
    switch (kind) {
      case 'call': {
        const id = this.pick(used, (s) => available(s) && s.onPhone !== true);
        return changeOf(id, { onPhone: true });
      }
      case 'hangup': {
        const id = this.pick(used, (s) => s.loggedIn === true && s.onPhone === true);
        // After a call some agents take follow-up (after-call work).
        return changeOf(id, rng.chance(0.3) ? { onPhone: false, statusId: 'Follow Up' } : { onPhone: false });
      }
      case 'break': {
        const id = this.pick(used, (s) => available(s) && s.onPhone !== true);
        return changeOf(id, { statusId: rng.pick(BREAKS) });
      }
      case 'back': {
        const id = this.pick(used, (s) => s.loggedIn === true && !/^available/i.test(s.statusId));
        // Some servers give an id in another case than the catalogue's (a real capture has "Do Not disturb").
        return changeOf(id, { statusId: rng.chance(0.05) ? 'available' : 'Available' });
      }
      case 'login': {
        const id = this.pick(used, (s) => s.loggedIn !== true);
        return changeOf(id, this.loginChange());
      }
      case 'logout': {
        const id = this.pick(used, (s) => s.loggedIn === true && s.onPhone !== true);
        return changeOf(id, { loggedIn: false, statusId: LOGGED_OUT_STATUS, stations: [], icServers: [] });
      }
    }
  }
}
