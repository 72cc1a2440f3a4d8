import { expect } from 'chai';
import { ConfigError } from '../../src/config/errors.js';
import { EXIT, exitCodeOf } from '../../src/errors/exit-codes.js';
import { IcwsConfigError, IcwsGoneError, IcwsNetworkError, IcwsUnauthorizedError } from '../../src/icws/errors.js';

describe('exit codes', () => {
  it('an error whose class carries an exit code ends the process with it: configuration errors and 410 Gone exit 78', () => {
    expect(exitCodeOf(new ConfigError('http.port', 'expected at most 65535'))).to.equal(EXIT.config);
    expect(exitCodeOf(new IcwsGoneError(410, 'PUT subscription', undefined, 'gone'))).to.equal(EXIT.config);
    expect(exitCodeOf(new IcwsConfigError(404, 'PUT subscription', undefined, 'no such user', 'subscription.configurationIds'))).to.equal(EXIT.config);
  });

  it('anything else is a runtime failure (1), whatever it looks like', () => {
    expect(exitCodeOf(new IcwsNetworkError('POST connection', 'ECONNREFUSED', 'refused'))).to.equal(EXIT.failure);
    expect(exitCodeOf(new IcwsUnauthorizedError(401, 'GET messages', undefined, 'expired'))).to.equal(EXIT.failure);
    expect(exitCodeOf(Object.assign(new Error('a child process failed'), { exitCode: 5 })), 'not one of our codes').to.equal(EXIT.failure);
    expect(exitCodeOf({ exitCode: 78 }), 'not an Error').to.equal(EXIT.failure);
    expect(exitCodeOf(undefined)).to.equal(EXIT.failure);
  });
});
