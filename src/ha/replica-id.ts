/** This replica's id in the leader lease: ha.replicaId, or one unique to this process. */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * hostname-pid-random: readable in logs (which host leads), and unique even for two processes on one host or a
 * restarted container whose hostname and pid repeat.
 */
export function replicaIdFor(configured: string): string {
  return configured || `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
