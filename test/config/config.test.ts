/**
 * config/default.yaml documents every key with its default; a bad value stops `icwatch run` with exit 78 naming
 * the key; check-config prints the configuration with secrets redacted.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isMap, parseDocument, type YAMLMap } from 'yaml';
import { DEFAULTS } from '../../src/config/defaults.js';
import { envKeys } from '../../src/config/env.js';
import { loadConfig } from '../../src/config/load.js';
import { killAll, ROOT, runCli } from '../helpers/processes.js';

const DEFAULT_YAML = join(ROOT, 'config/default.yaml');

/** Every leaf of default.yaml with its value and the comments around it. */
function documentedLeaves(): Map<string, { value: unknown; comment: string }> {
  const doc = parseDocument(readFileSync(DEFAULT_YAML, 'utf8'));
  const out = new Map<string, { value: unknown; comment: string }>();
  const walk = (node: YAMLMap, path: string[], inherited: string) => {
    node.items.forEach((pair, i) => {
      const key = (pair.key as { value: string }).value;
      const valueNode = pair.value as { comment?: string | null; commentBefore?: string | null; toJSON(): unknown } | null;
      let comment = `${(pair.key as { commentBefore?: string }).commentBefore ?? ''} ${valueNode?.comment ?? ''}`;
      if (i === 0) comment += ` ${node.commentBefore ?? ''} ${inherited}`;
      if (isMap(valueNode)) walk(valueNode, [...path, key], valueNode.commentBefore ?? '');
      else out.set([...path, key].join('.'), { value: valueNode?.toJSON(), comment });
    });
  };
  walk(doc.contents as YAMLMap, [], doc.commentBefore ?? '');
  return out;
}

function defaultOf(key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], DEFAULTS);
}

describe('config/default.yaml', () => {
  it('holds every key of DEFAULTS with its default value, and no other key', () => {
    const leaves = documentedLeaves();
    const keys = envKeys().map((k) => k.key);
    expect([...leaves.keys()].sort()).to.deep.equal([...keys].sort());
    for (const key of keys) expect(leaves.get(key)!.value, key).to.deep.equal(defaultOf(key));
  });

  it('documents each key with a comment naming its environment variable', () => {
    const leaves = documentedLeaves();
    for (const { key, variable } of envKeys()) {
      const { comment } = leaves.get(key)!;
      expect(comment, `comment of ${key}`).to.include(`Env: ${variable}`);
      expect(comment.replace(/Env: \S+/g, '').trim().length, `description of ${key}`).to.be.greaterThan(10);
    }
  });

  it('is mirrored by the README configuration reference (every key and variable)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const { key, variable } of envKeys()) expect(readme, key).to.include(`| \`${key}\` | \`${variable}\` |`);
  });

  it('loads as a configuration file equal to the defaults', () => {
    expect(loadConfig({ file: DEFAULT_YAML, env: {} })).to.deep.equal(DEFAULTS);
  });
});

describe('icwatch run with a bad configuration value', function () {
  this.timeout(60000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'icwatch-config-'))));
  after(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 78 naming the key when the file has a bad value', async () => {
    const file = join(dir, 'bad-port.yaml');
    writeFileSync(file, 'http:\n  port: 99999\n');
    const { code, stderr, stdout } = await runCli(['run', '-c', file]);
    expect(code).to.equal(78);
    expect(stderr).to.match(/http\.port/);
    expect(stderr).to.include('at most 65535');
    expect(stderr).to.include(file);
    expect(stdout).to.equal('');
  });

  it('exits 78 naming the key and the variable when the environment has a bad value', async () => {
    const { code, stderr } = await runCli(['run'], { ICWATCH_REDIS_MODE: 'galaxy' });
    expect(code).to.equal(78);
    expect(stderr).to.include('redis.mode');
    expect(stderr).to.include('ICWATCH_REDIS_MODE');
    expect(stderr).to.include('expected one of standalone, sentinel, cluster');
  });

  it('exits 78 on an unknown key in the file (a typo never falls back to a default)', async () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, 'redis:\n  keyPrefx: x\n');
    const { code, stderr } = await runCli(['run', '-c', file]);
    expect(code).to.equal(78);
    expect(stderr).to.include('redis.keyPrefx');
  });

  it('never echoes a bad secret value', async () => {
    const { code, stderr } = await runCli(['run'], {
      ICWATCH_WEBSOCKET_TOKENS: 'ok-token-1,',
      ICWATCH_HTTP_PORT: 'eighty',
      ICWATCH_ICWS_PASSWORD: 'pw-never-shown',
    });
    expect(code).to.equal(78);
    expect(stderr).to.include('http.port');
    expect(stderr).not.to.include('pw-never-shown');
    expect(stderr).not.to.include('ok-token-1');
  });
});

describe('icwatch check-config', function () {
  this.timeout(60000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'icwatch-check-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the effective configuration with the password and tokens redacted', async () => {
    const tokenFile = join(dir, 'tokens');
    writeFileSync(tokenFile, '# readers\nfile-token-secret-3\n');
    const file = join(dir, 'icwatch.yaml');
    writeFileSync(file, `websocket:\n  tokens: [yaml-token-secret-1]\n  tokenFile: ${tokenFile}\nhttp:\n  port: 9123\n`);
    const { code, stdout, stderr } = await runCli(['check-config', '-c', file], {
      ICWATCH_ICWS_PASSWORD: 'hunter2-secret-pw',
      ICWATCH_ICWS_USER: 'svc-icwatch',
    });
    expect(code, stderr).to.equal(0);
    for (const secret of ['hunter2-secret-pw', 'yaml-token-secret-1', 'file-token-secret-3']) {
      expect(stdout).not.to.include(secret);
      expect(stderr).not.to.include(secret);
    }
    const printed = parseDocument(stdout).toJSON() as typeof DEFAULTS;
    expect(printed.icws.password).to.equal('[redacted]');
    expect(printed.websocket.tokens).to.deep.equal(['[redacted]', '[redacted]']);
    expect(printed.icws.user).to.equal('svc-icwatch');
    expect(printed.http.port).to.equal(9123);
  });

  it('reads the password from passwordFile and still redacts it', async () => {
    const pwFile = join(dir, 'pw');
    writeFileSync(pwFile, 'from-file-secret-pw\n');
    const { code, stdout } = await runCli(['check-config'], { ICWATCH_ICWS_PASSWORD_FILE: pwFile });
    expect(code).to.equal(0);
    expect(stdout).not.to.include('from-file-secret-pw');
    expect((parseDocument(stdout).toJSON() as typeof DEFAULTS).icws.password).to.equal('[redacted]');
  });
});
