/**
 * Environment overrides: one variable per configuration key, named from the key's path
 * (icws.passwordFile → ICWATCH_ICWS_PASSWORD_FILE). Values are parsed after the default's type: numbers,
 * true/false, comma-separated lists.
 */
import { DEFAULTS } from './defaults.js';
import { ConfigError } from './errors.js';

export interface EnvKey {
  key: string;
  variable: string;
  kind: 'string' | 'number' | 'boolean' | 'list';
}

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** How a variable's text is read: after the type of the key's default. */
function kindOf(value: unknown): EnvKey['kind'] {
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  return 'string';
}

/** Every configuration key that is a leaf, with its environment variable. */
export function envKeys(node: Record<string, unknown> = DEFAULTS, path: string[] = []): EnvKey[] {
  const out: EnvKey[] = [];
  for (const [name, value] of Object.entries(node)) {
    const p = [...path, name];
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out.push(...envKeys(value as Record<string, unknown>, p));
    } else {
      out.push({ key: p.join('.'), variable: `ICWATCH_${p.map(snake).join('_')}`, kind: kindOf(value) });
    }
  }
  return out;
}

/** The overrides present in `env`, as a nested partial configuration. */
export function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, variable, kind } of envKeys()) {
    const raw = env[variable];
    if (raw === undefined) continue;
    let value: unknown = raw;
    if (kind === 'number') {
      if (!/^-?\d+(\.\d+)?$/.test(raw.trim())) throw new ConfigError(key, `expected a number, got ${JSON.stringify(raw)}`, variable);
      value = Number(raw);
    } else if (kind === 'boolean') {
      if (!/^(true|false|1|0)$/i.test(raw.trim())) throw new ConfigError(key, `expected true or false, got ${JSON.stringify(raw)}`, variable);
      value = /^(true|1)$/i.test(raw.trim());
    } else if (kind === 'list') {
      value = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    }
    setPath(out, key.split('.'), value);
  }
  return out;
}

export function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
