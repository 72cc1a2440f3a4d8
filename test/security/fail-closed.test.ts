/**
 * Fail closed (README "Security"): a configured token source that yields no token, and a non-loopback http.host
 * without tokens, stop `icwatch run` with exit 78 naming the keys; scoped tokens load from YAML and the token file,
 * and check-config shows their props but never the tokens.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config/load.js';
import { killAll, runCli } from '../helpers/processes.js';

describe('security: fail closed', function () {
  this.timeout(60000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'icwatch-fail-closed-'))));
  after(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 78 naming websocket.tokenFile when the token file holds only comments and blank lines', async () => {
    const file = join(dir, 'comments-only');
    writeFileSync(file, '# the readers\n\n   \n# (none yet)\n');
    const { code, stderr, stdout } = await runCli(['run'], { ICWATCH_WEBSOCKET_TOKEN_FILE: file });
    expect(code, stderr).to.equal(78);
    expect(stderr).to.include('websocket.tokenFile').and.include('holds no token');
    expect(stdout).to.equal('');
  });

  for (const value of [',', ' , ,', '']) {
    it(`exits 78 naming websocket.tokens when ICWATCH_WEBSOCKET_TOKENS is ${JSON.stringify(value)}`, async () => {
      const { code, stderr } = await runCli(['run'], { ICWATCH_WEBSOCKET_TOKENS: value });
      expect(code, stderr).to.equal(78);
      expect(stderr).to.include('websocket.tokens').and.include('ICWATCH_WEBSOCKET_TOKENS');
    });
  }

  for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
    it(`exits 78 naming http.host and websocket.tokens for http.host ${host} without tokens`, async () => {
      const { code, stderr } = await runCli(['run'], { ICWATCH_HTTP_HOST: host });
      expect(code, stderr).to.equal(78);
      expect(stderr).to.include('http.host').and.include('websocket.tokens').and.include('http.allowAnonymous');
    });
  }

  it('check-config says the same (exit 78), and accepts the host with a token or http.allowAnonymous', async () => {
    expect((await runCli(['check-config'], { ICWATCH_HTTP_HOST: '0.0.0.0' })).code).to.equal(78);
    const withToken = await runCli(['check-config'], { ICWATCH_HTTP_HOST: '0.0.0.0', ICWATCH_WEBSOCKET_TOKENS: 'tok-check-1' });
    expect(withToken.code, withToken.stderr).to.equal(0);
    expect(withToken.stdout).not.to.include('tok-check-1');
    const anonymous = await runCli(['check-config'], { ICWATCH_HTTP_HOST: '0.0.0.0', ICWATCH_HTTP_ALLOW_ANONYMOUS: 'true' });
    expect(anonymous.code, anonymous.stderr).to.equal(0);
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1']) {
      const r = await runCli(['check-config'], { ICWATCH_HTTP_HOST: host });
      expect(r.code, `${host}: ${r.stderr}`).to.equal(0);
    }
  });

  it('loads scoped tokens from YAML and from the token file (lines and a YAML list), never printing a token', async () => {
    const lines = join(dir, 'lines');
    writeFileSync(lines, '# readers\nline-full-secret\nline-scoped-secret props=extension,statusText\n');
    const yamlList = join(dir, 'list.yaml');
    writeFileSync(yamlList, '# readers\n- list-full-secret\n- token: list-scoped-secret\n  props: [extension]\n');
    const config = join(dir, 'icwatch.yaml');
    writeFileSync(config, `websocket:\n  tokens:\n    - token: yaml-scoped-secret\n      props: [statusText]\n  tokenFile: ${lines}\n`);
    const loaded = loadConfig({ file: config, env: {} });
    expect(loaded.websocket.tokens).to.deep.equal([
      { token: 'yaml-scoped-secret', props: ['statusText'] },
      'line-full-secret',
      { token: 'line-scoped-secret', props: ['extension', 'statusText'] },
    ]);
    expect(loadConfig({ env: { ICWATCH_WEBSOCKET_TOKEN_FILE: yamlList } }).websocket.tokens).to.deep.equal([
      'list-full-secret',
      { token: 'list-scoped-secret', props: ['extension'] },
    ]);
    const { code, stdout, stderr } = await runCli(['check-config', '-c', config]);
    expect(code, stderr).to.equal(0);
    expect(stdout).not.to.match(/secret/);
    expect(stdout).to.include('statusText').and.include('[redacted]');
  });

  it('exits 78 on a malformed token file line, naming the line and not the token', async () => {
    const file = join(dir, 'malformed');
    writeFileSync(file, 'good-token-1\nbad-token-secret scope=x\n');
    const { code, stderr } = await runCli(['run'], { ICWATCH_WEBSOCKET_TOKEN_FILE: file });
    expect(code).to.equal(78);
    expect(stderr).to.include('websocket.tokenFile').and.include('line 2').and.not.include('bad-token-secret');
  });
});
