/** What the HTTP endpoints show: the daemon answers these, the HTTP server renders them. */
import type { ChangeEntry } from '../mirror/change.js';

/** The conditions of /readyz, by the names operators read in its 503 body. */
export type ReadinessCheck =
  | 'ICWS session up'
  | 'subscription active'
  | 'Redis reachable'
  /** Redis answers, but refused the last write (NOPERM, WRONGTYPE, OOM…): the reason says what it said. */
  | 'Redis accepts writes'
  | 'first full sync applied'
  | 'fan-out started';

export interface Readiness {
  ready: boolean;
  /** Each condition and whether it holds. */
  checks: Partial<Record<ReadinessCheck, boolean>>;
  /** Why the session or Redis is not there (e.g. "authentication failed"), when known. */
  reason?: string;
  lastError?: string;
  /** High availability: `leader`, `standby` (or `acquiring`, `stepping-down`), and the leader's replica id. */
  leadership?: string;
  leader?: string;
  /** Users whose removal the delete guard holds (README "Mass deletions are held"): said, never a reason to be unready. */
  removalsHeld?: number;
}

export interface StatusView {
  version: string;
  role: string;
  /** The daemon's own state (starting, running, draining, …). */
  daemon: string;
  /** The ICWS session in words ("up on ic1 (subscribed)", "reconnecting: authentication failed", …). */
  session: string;
  /** High availability: leader or standby, in words. */
  leader?: string;
  redis: string;
  epoch?: string;
  seq?: number;
  users?: number;
  syncing?: boolean;
  lastChangeAt?: number;
  /** When the last verification of the mirror against ICWS was applied, ms (README "Integrity"). */
  verifiedAt?: number;
  /** Users whose removal the delete guard holds. */
  removalsHeld?: number;
  wsClients?: number;
  /** Seconds, by stage (redis, websocket). */
  lag: Record<string, { p50?: number; p99?: number }>;
  /** Newest first. */
  recentChanges: ChangeEntry[];
  lastError?: string;
}
