/** The real stages from Config: IcwsUsersFeed, Mirror and FanoutServer (role fanout: the fan-out alone). */
import type { StageContext, Stages } from './stages.js';

// Stage modules are loaded by name until they land in the tree (placeholder, replaced by static imports).
const load = (path: string) => import(path) as Promise<Record<string, new (...args: unknown[]) => unknown>>;

export async function buildStages(ctx: StageContext): Promise<Stages> {
  void load;
  void ctx;
  throw new Error('the ICWS feed, mirror and fan-out are not available in this build');
}
