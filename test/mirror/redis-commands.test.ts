/**
 * REDIS_COMMANDS_USED cannot drift from the code: every command the Lua scripts (files and inline) and the TypeScript
 * sources send is in it, and every command it lists for icwatch's own code is still sent somewhere.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exists } from '@ioredis/commands';
import { expect } from 'chai';
import { commandsFor, REDIS_COMMANDS_USED } from '../../src/mirror/redis-commands.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { ROOT } from '../helpers/processes.js';

/** The daemon's sources: not the simulator, the browser client and page, or the build scripts (no Redis there). */
const NOT_DAEMON = /^src\/(simulator|client|page|build)\//;

function sources(ext: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith(ext) && !NOT_DAEMON.test(rel)) out.push({ path: rel, text: readFileSync(join(ROOT, rel), 'utf8') });
    }
  };
  walk('src');
  return out;
}

/** Commands a Lua script calls by name: redis.call('X', …), redis.pcall('X', …) and apply.lua's sliced('X', …). */
const LUA_CALL = /(?:redis\.p?call|sliced)\(\s*['"]([A-Za-z]+)['"]/g;
/** ioredis command methods on the receivers the daemon's code names its clients and pipelines by. */
const CLIENT_CALL = /\b(?:redis|client|sub|subscriber|pipe|pipeline|p|tx|multi)\.([a-z]+)\(/g;
/** ioredis methods that are not commands of their own: a pipeline's exec sends only the queued commands. */
const NOT_COMMANDS = new Set(['exec', 'pipeline', 'multi', 'call', 'disconnect', 'connect', 'duplicate']);

function luaCommands(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const f of [...sources('.lua'), ...sources('.ts')])
    for (const m of f.text.matchAll(LUA_CALL)) found.set(m[1]!.toLowerCase(), [...(found.get(m[1]!.toLowerCase()) ?? []), f.path]);
  return found;
}

function clientCommands(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const f of sources('.ts'))
    for (const m of f.text.matchAll(CLIENT_CALL)) {
      const name = m[1]!;
      if (NOT_COMMANDS.has(name) || !exists(name)) continue;
      found.set(name, [...(found.get(name) ?? []), f.path]);
    }
  return found;
}

describe('REDIS_COMMANDS_USED', () => {
  const listed = new Set(REDIS_COMMANDS_USED.map((c) => c.command));

  it('lists every command the Lua scripts call', () => {
    const lua = luaCommands();
    expect(lua.size, 'the scan finds the scripts').to.be.greaterThan(10);
    for (const [command, where] of lua) expect(listed.has(command), `${command.toUpperCase()} (called in ${where.join(', ')})`).to.equal(true);
  });

  it('knows every script call whose command is not a literal (the one slicing helper of apply.lua)', () => {
    const dynamic = [...sources('.lua'), ...sources('.ts')].flatMap((f) =>
      [...f.text.matchAll(/redis\.p?call\(\s*([^'"\s,)][^,)]*)/g)].map((m) => `${f.path}: ${m[1]}`),
    );
    expect(dynamic).to.deep.equal(['src/mirror/lua/apply.lua: cmd']);
  });

  it('lists every command the TypeScript sources send through ioredis', () => {
    const ts = clientCommands();
    expect(ts.size, 'the scan finds the clients').to.be.greaterThan(5);
    for (const [command, where] of ts) expect(listed.has(command), `${command.toUpperCase()} (sent in ${where.join(', ')})`).to.equal(true);
  });

  it('lists EVALSHA and EVAL while scripts are defined with defineCommand (EVALSHA, then EVAL on NOSCRIPT)', () => {
    expect(sources('.ts').some((f) => f.text.includes('.defineCommand('))).to.equal(true);
    expect(listed.has('evalsha') && listed.has('eval')).to.equal(true);
  });

  it('lists nothing for icwatch’s own code that the code no longer sends', () => {
    const sent = new Set([...luaCommands().keys(), ...clientCommands().keys(), 'evalsha', 'eval']);
    const stale = REDIS_COMMANDS_USED.filter((c) => !c.byClient && !sent.has(c.command)).map((c) => c.command);
    expect(stale).to.deep.equal([]);
  });

  it('gives each mode its own commands', () => {
    const names = (redis: Partial<typeof DEFAULTS.redis>) => commandsFor({ ...DEFAULTS.redis, ...redis }).map((c) => c.command);
    expect(names({})).to.not.include.members(['cluster|slots', 'select']);
    expect(names({ mode: 'cluster', nodes: ['127.0.0.1:7000'] })).to.include.members(['cluster|slots', 'cluster|info']);
    expect(names({ url: 'redis://127.0.0.1:6379/3' })).to.include('select');
  });
});
