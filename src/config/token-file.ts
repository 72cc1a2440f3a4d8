/**
 * websocket.tokenFile: `TOKEN` or `TOKEN props=a,b` per line (# comments and blank lines allowed), or a YAML list
 * of the same items as websocket.tokens (a string or {token, props}). A file that yields no token is an error, not
 * an open endpoint (fail closed, README "Security"). Errors name the line or item, never the token.
 */
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.js';
import { tokenSpec, type TokenSpec } from './schema.js';

const KEY = 'websocket.tokenFile';
const PROPERTY = /^[A-Za-z][A-Za-z0-9]*$/;

export function parseTokenFile(text: string, path: string): TokenSpec[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const meaningful = lines.filter((l) => l && !l.startsWith('#'));
  const tokens = meaningful[0]?.startsWith('-') ? yamlTokens(text, path) : lineTokens(lines, path);
  if (tokens.length === 0)
    throw new ConfigError(KEY, `${path} holds no token (only comments or blank lines): a configured token source must yield a token`, path);
  return tokens;
}

function yamlTokens(text: string, path: string): TokenSpec[] {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch {
    throw new ConfigError(KEY, `${path} starts as a YAML list but is not valid YAML`, path);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(KEY, `${path}: expected a YAML list of tokens`, path);
  return parsed.map((item, i) => {
    const r = tokenSpec.safeParse(item);
    if (!r.success) throw new ConfigError(KEY, `${path}: item ${i + 1}: ${r.error.issues[0]!.message}`, path);
    return r.data;
  });
}

function lineTokens(lines: string[], path: string): TokenSpec[] {
  const out: TokenSpec[] = [];
  lines.forEach((line, i) => {
    if (!line || line.startsWith('#')) return;
    const [token, scope, ...extra] = line.split(/\s+/);
    const where = `${path}: line ${i + 1}`;
    if (extra.length || (scope !== undefined && !scope.startsWith('props=')))
      throw new ConfigError(KEY, `${where}: expected "TOKEN" or "TOKEN props=a,b"`, path);
    if (scope === undefined) return void out.push(token!);
    const props = scope.slice('props='.length).split(',');
    const bad = props.find((p) => !PROPERTY.test(p));
    if (bad !== undefined)
      throw new ConfigError(KEY, `${where}: props has ${JSON.stringify(bad.slice(0, 64))}, expected property names such as extension`, path);
    out.push({ token: token!, props });
  });
  return out;
}
