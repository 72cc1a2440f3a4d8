/**
 * Lowering a worker process's CPU priority (websocket.workerNice; docs/architecture.md, "Processes"). On Linux a
 * priority belongs to a thread, not to a process: setpriority(2) on a pid changes only the thread whose id it is,
 * and a new thread inherits its creator's. So every thread a worker already has (node's platform and libuv threads)
 * is lowered too, found in /proc/<pid>/task; elsewhere the pid stands for the process.
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The most a priority can be lowered to (setpriority(2)). */
const LOWEST_PRIORITY = 19;

/** The ids of the threads of `pid` (Linux), or `pid` itself where /proc does not list them. */
export function threadsOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number).filter(Number.isInteger);
  } catch {
    return [pid];
  }
}

/** Runs `pid` (every thread) `nice` levels below this process; returns why the system refused, or undefined. */
export function lowerPriority(pid: number, nice: number): Error | undefined {
  const priority = Math.min(getPriority() + nice, LOWEST_PRIORITY);
  for (const tid of threadsOf(pid)) {
    try {
      setPriority(tid, priority);
    } catch (err) {
      // A thread that ended meanwhile is no refusal.
      if ((err as NodeJS.ErrnoException).code === 'ESRCH' || (err as { info?: { code?: string } }).info?.code === 'ESRCH') continue;
      return err as Error;
    }
  }
  return undefined;
}
