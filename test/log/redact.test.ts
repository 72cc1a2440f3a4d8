import { expect } from 'chai';
import { MAX_SECRETS, redactStrings, redactText, redactUrl, redactValue, registerSecret, SecretScope } from '../../src/log/redact.js';

describe('redaction', () => {
  it('masks a registered secret wherever it occurs until it is forgotten, and secret-named fields whole', () => {
    const secret = registerSecret('s3cret-pass');
    expect(redactText('login with s3cret-pass failed (s3cret-pass)')).to.equal('login with [redacted] failed ([redacted])');
    expect(redactValue({ password: 'anything', cookie: 'x=1', user: 'jdoe' })).to.deep.equal({ password: '[redacted]', cookie: '[redacted]', user: 'jdoe' });
    secret.forget();
    expect(redactText('login with s3cret-pass failed')).to.equal('login with s3cret-pass failed');
  });

  it('does not mask a password that equals a public value such as the user name (it would blank the name everywhere)', () => {
    registerSecret('icwatch-user', ['icwatch-user', 'icwatch']).forget();
    expect(redactText('icwatch-user logged in')).to.equal('icwatch-user logged in');
    expect(redactValue({ password: 'icwatch-user' })).to.deep.equal({ password: '[redacted]' });
  });

  it('keeps a value registered by two holders masked until both have forgotten it; forgetting twice counts once', () => {
    const first = registerSecret('shared-Tok-91');
    const second = registerSecret('shared-Tok-91');
    first.forget();
    first.forget();
    expect(redactText('token shared-Tok-91')).to.equal('token [redacted]');
    second.forget();
    expect(redactText('token shared-Tok-91')).to.equal('token shared-Tok-91');
  });

  it('masks the longer of two overlapping secrets whole, and secrets with pattern characters literally', () => {
    const handles = [registerSecret('abc-1'), registerSecret('abc-1234'), registerSecret('a.b*c?(d)')];
    expect(redactText('x abc-1234 y abc-1 z a.b*c?(d) aXb')).to.equal('x [redacted] y [redacted] z [redacted] aXb');
    handles.forEach((h) => h.forget());
  });

  it('a session scope forgets its previous secrets when they are replaced and all of them when cleared', () => {
    const scope = new SecretScope();
    scope.replace('csrf-first-session', 'cookie-first-session');
    expect(redactText('csrf-first-session cookie-first-session')).to.equal('[redacted] [redacted]');
    scope.replace('csrf-second-session', 'cookie-second-session');
    expect(redactText('csrf-first-session csrf-second-session')).to.equal('csrf-first-session [redacted]');
    scope.clear();
    expect(redactText('csrf-second-session cookie-second-session')).to.equal('csrf-second-session cookie-second-session');
  });

  it('stays bounded: past MAX_SECRETS distinct values the oldest registration goes first', () => {
    const handles = Array.from({ length: MAX_SECRETS + 1 }, (_, i) => registerSecret(`bounded-secret-${i}-x`));
    expect(redactText('bounded-secret-0-x')).to.equal('bounded-secret-0-x');
    expect(redactText('bounded-secret-1-x')).to.equal('[redacted]');
    expect(redactText(`bounded-secret-${MAX_SECRETS}-x`)).to.equal('[redacted]');
    handles.forEach((h) => h.forget());
    expect(redactText(`bounded-secret-${MAX_SECRETS}-x`)).to.equal(`bounded-secret-${MAX_SECRETS}-x`);
  });

  it('masks credentials inside URLs and token parameters without any registration', () => {
    expect(redactUrl('redis://user:pw@host:6379')).to.equal('redis://user:[redacted]@host:6379');
    expect(redactUrl('rediss://:only-pw@host:6380/2')).to.equal('rediss://:[redacted]@host:6380/2');
    expect(redactUrl('redis://127.0.0.1:6379')).to.equal('redis://127.0.0.1:6379');
    expect(redactUrl('redis://user@host:6379')).to.equal('redis://user@host:6379');
    // An unescaped @ in the password: WHATWG URL parsing takes the last @ of the authority, and so does the mask.
    expect(redactUrl('redis://u:p@ss@host:6379')).to.equal('redis://u:[redacted]@host:6379');
    expect(redactText('error at https://svc:Pw-1@ic1.example.com:8019/icws: refused')).to.equal(
      'error at https://svc:[redacted]@ic1.example.com:8019/icws: refused',
    );
    expect(redactText('GET ws://h:8080/v1/users?since=3&access_token=tok-123 upgraded')).to.equal(
      'GET ws://h:8080/v1/users?since=3&access_token=[redacted] upgraded',
    );
  });

  it('redacts every string of a value of any shape but keeps field names and other values (status page, JSON)', () => {
    const secret = registerSecret('Status-Secret-44');
    const status = { redis: 'redis://u:pw@h:6379 — reachable', users: 3, token: 'ok', recent: [{ data: { statusText: 'Status-Secret-44' } }] };
    expect(redactStrings(status)).to.deep.equal({
      redis: 'redis://u:[redacted]@h:6379 — reachable',
      users: 3,
      token: 'ok',
      recent: [{ data: { statusText: '[redacted]' } }],
    });
    secret.forget();
  });
});
