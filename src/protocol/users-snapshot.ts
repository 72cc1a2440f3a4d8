/**
 * The body of `GET /v1/users` (README, "HTTP reads"): the mirror, or the filtered part of it, as of `seq`. A client
 * that starts from it resumes the WebSocket from `seq`/`epoch`.
 */
import type { UserRecord } from './frames.js';

export interface UsersSnapshot {
  epoch: string | null;
  seq: number;
  users: UserRecord[];
}
