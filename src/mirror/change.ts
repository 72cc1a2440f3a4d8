/**
 * A change entry as it stands in the `{P}:changes` stream and as the fan-out republishes it. `status` entries carry
 * the status properties that changed (presence; `null` = cleared) and `available` whenever it changed.
 */
export type ChangeEntry =
  | { op: 'upsert'; seq: number; id: string; data: Record<string, unknown>; at: number }
  | { op: 'remove'; seq: number; id: string; at: number }
  | { op: 'status'; seq: number; id: string; data: Record<string, unknown>; at: number };

/** Decode one XRANGE/XREAD entry ([id, [field, value, …]]). Throws on an entry that does not have the documented fields. */
export function decodeChangeEntry(fields: string[]): ChangeEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  const seq = Number(f.seq);
  const at = Number(f.at);
  if (!Number.isSafeInteger(seq) || !f.id || (f.op !== 'upsert' && f.op !== 'remove' && f.op !== 'status')) {
    throw new Error(`change entry without seq/op/id: ${JSON.stringify(f).slice(0, 200)}`);
  }
  if (f.op === 'remove') return { op: 'remove', seq, id: f.id, at };
  return { op: f.op, seq, id: f.id, data: JSON.parse(f.data ?? '{}') as Record<string, unknown>, at };
}
