import { expect } from 'chai';
import { redactText, redactValue, registerSecret, forgetSecret } from '../../src/log/redact.js';

describe('redaction', () => {
  afterEach(() => ['s3cret-pass', 'icwatch-user'].forEach(forgetSecret));

  it('masks a registered secret wherever it occurs, and secret-named fields whole', () => {
    registerSecret('s3cret-pass');
    expect(redactText('login with s3cret-pass failed')).to.equal('login with [redacted] failed');
    expect(redactValue({ password: 'anything', cookie: 'x=1', user: 'jdoe' })).to.deep.equal({ password: '[redacted]', cookie: '[redacted]', user: 'jdoe' });
  });

  it('does not mask a password that equals a public value such as the user name (it would blank the name everywhere)', () => {
    registerSecret('icwatch-user', ['icwatch-user', 'icwatch']);
    expect(redactText('icwatch-user logged in')).to.equal('icwatch-user logged in');
    expect(redactValue({ password: 'icwatch-user' })).to.deep.equal({ password: '[redacted]' });
  });
});
