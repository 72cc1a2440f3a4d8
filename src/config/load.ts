/**
 * Effective configuration = DEFAULTS ← YAML file ← environment ← explicit overrides, validated as one.
 * Every error is a ConfigError naming the key, what was wrong and where the value came from.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DEFAULTS, SECRET_KEYS, type Config } from './defaults.js';
import { envKeys, fromEnv } from './env.js';
import { ConfigError } from './errors.js';
import { configSchema } from './schema.js';

export interface LoadOptions {
  /** YAML (or JSON) file; missing = defaults and environment only. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last (the demo and tests use it). */
  overrides?: DeepPartial<Config>;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  let fileLayer: Record<string, unknown> = {};
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new ConfigError('(file)', `cannot read ${options.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, options.file);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text) ?? {};
    } catch (err) {
      throw new ConfigError('(file)', `not valid YAML: ${(err as Error).message.split('\n')[0]}`, options.file);
    }
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError('(file)', 'expected a mapping of sections (icws:, redis:, …) at the top level', options.file);
    }
    fileLayer = parsed as Record<string, unknown>;
  }
  const envLayer = fromEnv(env);
  const merged = merge(merge(merge(structuredClone(DEFAULTS) as unknown as Record<string, unknown>, fileLayer), envLayer), (options.overrides ?? {}) as Record<string, unknown>);

  const sourceOf = (key: string): string => {
    const variable = envKeys().find((k) => k.key === key)?.variable;
    if (variable && env[variable] !== undefined) return variable;
    return options.file ?? 'defaults';
  };

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = issue.path.join('.') || '(top level)';
    let problem = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length ? `${issue.path.join('.')}.` : '';
      throw new ConfigError(`${where}${issue.keys.join(', ' + where)}`, `unknown key (known keys are listed in config/default.yaml)`, options.file ?? 'configuration');
    }
    const isSecret = (SECRET_KEYS as readonly string[]).some((s) => key === s || key.startsWith(`${s}.`));
    if (!isSecret) {
      const value = issue.path.reduce<unknown>((node, part) => (node as Record<PropertyKey, unknown> | undefined)?.[part as PropertyKey], merged);
      if (value !== undefined) problem = `${problem}, got ${JSON.stringify(value)}`;
    }
    throw new ConfigError(key, problem, sourceOf(key));
  }
  const config = result.data as Config;

  if (config.icws.passwordFile) config.icws.password = readSecretFile(config.icws.passwordFile, 'icws.passwordFile').trim();
  if (config.websocket.tokenFile) {
    const tokens = readSecretFile(config.websocket.tokenFile, 'websocket.tokenFile').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    config.websocket.tokens = [...config.websocket.tokens, ...tokens];
  }
  if (config.redis.mode !== 'standalone' && config.redis.nodes.length === 0) {
    throw new ConfigError('redis.nodes', `expected at least one host:port when redis.mode is ${config.redis.mode}`, sourceOf('redis.nodes'));
  }
  if (config.icws.backoff.maxMs < config.icws.backoff.initialMs) throw new ConfigError('icws.backoff.maxMs', 'expected a value ≥ icws.backoff.initialMs', sourceOf('icws.backoff.maxMs'));
  if (config.redis.backoff.maxMs < config.redis.backoff.initialMs) throw new ConfigError('redis.backoff.maxMs', 'expected a value ≥ redis.backoff.initialMs', sourceOf('redis.backoff.maxMs'));
  return config;
}

function readSecretFile(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(key, `cannot read the file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Deep merge of plain objects; arrays and scalars of `over` replace those of `base`. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = base[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)) {
      base[k] = merge(b as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      base[k] = v;
    }
  }
  return base;
}

/** A copy safe to print: secrets replaced by "[redacted]" (empty ones left empty, so an operator sees they are unset). */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.icws.password) copy.icws.password = '[redacted]';
  copy.websocket.tokens = copy.websocket.tokens.map(() => '[redacted]');
  return copy;
}
