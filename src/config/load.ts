/**
 * Effective configuration = defaults ← YAML file ← environment ← explicit overrides, validated as one by the schema
 * (which fills in the defaults). Every error is a ConfigError naming the key, what was wrong and where the value
 * came from.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { redactStrings, redactText, REDACTED } from '../log/redact.js';
import type { Config } from './defaults.js';
import { envKeys, fromEnv } from './env.js';
import { ConfigError } from './errors.js';
import { parseRedisUrl } from './redis-url.js';
import { configSchema, SECRET_KEYS } from './schema.js';
import { parseTokenFile } from './token-file.js';
import { isLoopbackHost } from '../util/loopback.js';

export interface LoadOptions {
  /** YAML (or JSON) file; missing = defaults and environment only. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last (the demo and tests use it). */
  overrides?: DeepPartial<Config>;
}

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

type Layer = Record<string, unknown>;

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  // Fail closed: a token variable that is set but names no token must not leave the endpoint open.
  const tokensVariable = env.ICWATCH_WEBSOCKET_TOKENS;
  if (tokensVariable !== undefined && !tokensVariable.split(',').some((t) => t.trim()))
    throw new ConfigError('websocket.tokens', 'ICWATCH_WEBSOCKET_TOKENS is set but holds no token (only blanks and commas)', 'ICWATCH_WEBSOCKET_TOKENS');
  const fileLayer = options.file ? readConfigFile(options.file) : {};
  const merged = merge(merge(merge({}, fileLayer), fromEnv(env)), options.overrides ?? {});

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
      throw new ConfigError(
        `${where}${issue.keys.join(', ' + where)}`,
        `unknown key (known keys are listed in config/default.yaml)`,
        options.file ?? 'configuration',
      );
    }
    // redis.url is never echoed: a password that breaks its syntax is where no URL redaction can find it.
    if (!isSecretKey(key) && key !== 'redis.url') {
      const value = issue.path.reduce<unknown>((node, part) => (node as Layer | undefined)?.[part as string], merged);
      // Not a secret key, but a value such as a URL may still hold credentials.
      if (value !== undefined) problem = `${problem}, got ${redactText(JSON.stringify(value))}`;
    }
    throw new ConfigError(key, problem, sourceOf(key));
  }
  const config = result.data;

  if (config.icws.passwordFile) {
    config.icws.password = readSecretFile(config.icws.passwordFile, 'icws.passwordFile').trim();
  }
  if (config.redis.passwordFile) config.redis.password = readSecretFile(config.redis.passwordFile, 'redis.passwordFile').trim();
  if (config.redis.sentinelPasswordFile) {
    config.redis.sentinelPassword = readSecretFile(config.redis.sentinelPasswordFile, 'redis.sentinelPasswordFile').trim();
  }
  checkRedisTls(config.redis, sourceOf);
  if (config.websocket.tokenFile) {
    const text = readSecretFile(config.websocket.tokenFile, 'websocket.tokenFile');
    config.websocket.tokens = [...config.websocket.tokens, ...parseTokenFile(text, config.websocket.tokenFile)];
  }
  if (!isLoopbackHost(config.http.host) && config.websocket.tokens.length === 0 && !config.http.allowAnonymous) {
    throw new ConfigError(
      'http.host, websocket.tokens',
      `http.host ${config.http.host} is not a loopback address and websocket.tokens is empty: anyone who reaches the port would read the directory; ` +
        'configure websocket.tokens (or websocket.tokenFile), bind http.host to 127.0.0.1, or set http.allowAnonymous: true on purpose',
      sourceOf('http.host'),
    );
  }
  if (config.redis.mode !== 'standalone' && config.redis.nodes.length === 0) {
    const problem = `expected at least one host:port when redis.mode is ${config.redis.mode}`;
    throw new ConfigError('redis.nodes', problem, sourceOf('redis.nodes'));
  }
  for (const section of ['icws', 'redis'] as const) {
    const key = `${section}.backoff.maxMs`;
    const { initialMs, maxMs } = config[section].backoff;
    if (maxMs < initialMs) throw new ConfigError(key, `expected a value ≥ ${section}.backoff.initialMs`, sourceOf(key));
  }
  return config;
}

/** redis.tls.* only with rediss:// (a CA given for a plain URL would be a false sense of safety), the key with its certificate. */
function checkRedisTls(redis: Config['redis'], sourceOf: (key: string) => string): void {
  const url = parseRedisUrl(redis.url);
  const tlsKeys = Object.entries(redis.tls).filter(([, v]) => v !== '');
  if ('tls' in url && !url.tls && tlsKeys.length) {
    const key = `redis.tls.${tlsKeys[0]![0]}`;
    throw new ConfigError(key, 'set while redis.url is plain redis://: expected rediss:// (TLS) in redis.url, or no redis.tls keys', sourceOf(key));
  }
  if (Boolean(redis.tls.certFile) !== Boolean(redis.tls.keyFile)) {
    const key = redis.tls.certFile ? 'redis.tls.keyFile' : 'redis.tls.certFile';
    throw new ConfigError(key, 'expected redis.tls.certFile and redis.tls.keyFile together (mutual TLS needs both)', sourceOf(key));
  }
}

function readConfigFile(file: string): Layer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('(file)', `cannot read ${file}: ${errorCode(err)}`, file);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError('(file)', `not valid YAML: ${String((err as Error).message).split('\n')[0]}`, file);
  }
  if (!isLayer(parsed)) {
    throw new ConfigError('(file)', 'expected a mapping of sections (icws:, redis:, …) at the top level', file);
  }
  return parsed;
}

function readSecretFile(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(key, `cannot read the file ${path}: ${errorCode(err)}`);
  }
}

const errorCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? 'error';
const isLayer = (v: unknown): v is Layer => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSecretKey = (key: string) => SECRET_KEYS.some((s) => key === s || key.startsWith(`${s}.`));

/** Deep merge of plain objects into `base`; arrays and scalars of `over` replace those of `base`. */
function merge(base: Layer, over: object): Layer {
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = base[k];
    base[k] = isLayer(v) && isLayer(b) ? merge(b, v) : isLayer(v) ? merge({}, v) : v;
  }
  return base;
}

/**
 * A copy safe to print (`check-config`): the values of SECRET_KEYS replaced by "[redacted]" (empty ones left empty,
 * so an operator sees they are unset), and credentials inside URLs (redis.url, icws.url) masked.
 */
export function printableConfig(config: Config): Config {
  const copy = redactStrings(config);
  for (const key of SECRET_KEYS) {
    const path = key.split('.');
    const parent = path.slice(0, -1).reduce<Layer>((node, part) => node[part] as Layer, copy);
    const leaf = path[path.length - 1]!;
    const value = parent[leaf];
    // A scoped token keeps its props in sight: only the token itself is secret.
    if (Array.isArray(value)) parent[leaf] = value.map((v: unknown) => (isLayer(v) ? { ...v, token: REDACTED } : REDACTED));
    else if (value) parent[leaf] = REDACTED;
  }
  return copy;
}
