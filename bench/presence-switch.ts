/**
 * `--presence off|on` (or ICWATCH_BENCH_PRESENCE=off|on): whether the icwatch a bench starts mirrors user statuses
 * (`presence.enabled`, given to it as ICWATCH_PRESENCE_ENABLED). The directory and consumers benches default to
 * `off`, so that their figures stay comparable with the runs made before presence existed (the "no worse than
 * before with `presence.enabled: false`"); `--presence on` measures the same with statuses mirrored too. The presence
 * bench (bench/presence.bench.ts) always runs with presence on.
 *
 * Either way the simulator's background status churn (`icwatch simulate --status-churn`, 2 per second unless told
 * otherwise) is stopped before icwatch starts: with presence on, its status entries would move the seq the directory
 * bench checks and add frames to what the consumers bench times; with presence off icwatch never sees it.
 */
import type { SimulatorProcess } from '../test/helpers/processes.js';

export type Presence = 'on' | 'off';

/** The switch as given on the command line or in the environment; `fallback` when neither says. */
export function presenceSwitch(fallback: Presence = 'off'): Presence {
  const args = process.argv.slice(2);
  const given = args.includes('--presence') ? args[args.indexOf('--presence') + 1] : process.env.ICWATCH_BENCH_PRESENCE;
  if (given === undefined || given === '') return fallback;
  if (given !== 'on' && given !== 'off') throw new Error(`--presence (ICWATCH_BENCH_PRESENCE) expects on or off, got ${JSON.stringify(given)}`);
  return given;
}

/** The variable that gives icwatch the switch. */
export function presenceEnv(presence: Presence): Record<string, string> {
  return { ICWATCH_PRESENCE_ENABLED: presence === 'on' ? 'true' : 'false' };
}

/** Stops the simulator's background status churn (its statuses then change only when the bench asks). */
export async function stopStatusChurn(sim: SimulatorProcess): Promise<void> {
  await sim.control('POST', 'status-churn', { perSecond: 0 });
}
