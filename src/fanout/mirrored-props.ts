/**
 * Which names a reader's `props=` filter may use (README, "The WebSocket protocol" and "HTTP reads"): the properties
 * the subscription mirrors (`subscription.properties`), `configurationId` (every user has it: docs/architecture.md,
 * the Redis layout) and `id` (every user object carries it). With `*` the mirror may hold any top-level user property
 * of the vendor's reference, so those are the names. Anything else is refused (400) before any work is done: a filter
 * naming a property nobody has would still cost a body build or a snapshot framing of its own, and a loop over
 * made-up names is the cheapest way to make a worker build directory after directory. With presence, `status` (the
 * user's status, docs/presence.md) is one more name.
 */
import { USER_PROPERTIES } from '../icws/user-properties.js';
import { STATUS } from '../mirror/status-reads.js';
import type { PropsFilter } from './frames.js';

/** The refusal of a `props` filter, in the shape of the upgrade's and the HTTP reads' refusals. */
export interface PropsRefusal {
  status: 400;
  error: string;
  parameter: 'props';
  expected: string;
  /** The names a `props` filter may use. */
  allowed: string[];
}

export class MirroredProps {
  readonly allowed: ReadonlySet<string>;

  /** `properties`: subscription.properties; `options.status`: presence.enabled. */
  constructor(properties: readonly string[], options: { status?: boolean } = {}) {
    const mirrored = properties.includes('*') ? USER_PROPERTIES : properties;
    this.allowed = new Set(['id', 'configurationId', ...mirrored, ...(options.status ? [STATUS] : [])]);
  }

  /** Null when every name of `props` is allowed. */
  refusal(props: PropsFilter): PropsRefusal | null {
    if (!props) return null;
    const unknown = [...props].filter((p) => !this.allowed.has(p));
    if (!unknown.length) return null;
    const names = unknown.slice(0, 5).map((p) => `"${p.slice(0, 64)}"`);
    return {
      status: 400,
      error: `props names ${names.join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}, not ${unknown.length > 1 ? 'properties' : 'a property'} this mirror holds`,
      parameter: 'props',
      expected: `property names among ${[...this.allowed].join(', ')} (subscription.properties, and id, configurationId${this.allowed.has(STATUS) ? ', status' : ''})`,
      allowed: [...this.allowed],
    };
  }
}
