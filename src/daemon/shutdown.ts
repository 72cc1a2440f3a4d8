/**
 * Shutdown steps run one after the other within one time limit. A step that fails is logged and the next runs
 * (a DELETE that cannot reach ICWS must not keep Redis writes from draining); a step still running at the limit
 * is named, so the operator knows what hung.
 */
import type { Logger } from '../log/logger.js';

export interface ShutdownStep {
  /** What the step does, in words for the log ("draining Redis writes"). */
  name: string;
  run(): Promise<unknown>;
}

export interface ShutdownOutcome {
  /** The step under way when the time limit passed. */
  hung?: string;
  failed: string[];
}

export async function runShutdown(steps: ShutdownStep[], timeoutMs: number, logger: Logger): Promise<ShutdownOutcome> {
  let current: string | undefined;
  const failed: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const all = (async () => {
    for (const step of steps) {
      current = step.name;
      logger.debug(`shutdown: ${step.name}`);
      try {
        await step.run();
      } catch (err) {
        failed.push(step.name);
        logger.warn(`shutdown: ${step.name} failed: ${(err as Error)?.message ?? String(err)}`);
      }
    }
    current = undefined;
    return 'done' as const;
  })();
  try {
    const result = await Promise.race([all, timedOut]);
    return result === 'timeout' ? { hung: current ?? 'the last step', failed } : { failed };
  } finally {
    clearTimeout(timer);
  }
}
