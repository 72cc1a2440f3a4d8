import { expect } from 'chai';
import { IcwsAuthenticationError, IcwsError, IcwsGoneError, IcwsUnauthorizedError, IcwsUnavailableError } from '../../src/icws/errors.js';
import { classify, errorFor } from '../../src/icws/failures.js';

const AUTH = 'error.request.connection.authenticationFailure';
const answer = (status: number, body: unknown, request: 'connect' | 'session', resource?: string) =>
  errorFor(status, request === 'connect' ? 'POST connection' : 'GET messages', body, body === undefined ? '' : JSON.stringify(body), request, resource);

describe('ICWS failure classification: by request and status first, body second', () => {
  it('only the connect request can mean bad credentials: 400 with the errorId or the old errorCode, and any 401', () => {
    for (const body of [
      { errorId: AUTH, errorCode: -2147221503, message: 'The authentication process failed.' },
      { errorCode: -2147221503, message: 'Failed.' },
      { errorId: AUTH, message: 'x' },
    ]) {
      expect(answer(400, body, 'connect')).to.be.instanceOf(IcwsAuthenticationError);
    }
    expect(answer(401, { errorId: AUTH, message: 'x' }, 'connect')).to.be.instanceOf(IcwsAuthenticationError);
    expect(answer(401, undefined, 'connect')).to.be.instanceOf(IcwsAuthenticationError);
    // Another 400 on connect is a request problem, not the password.
    const other = answer(400, { errorId: 'error.request.missingHeader', message: 'Accept-Language is required.' }, 'connect');
    expect(other).not.to.be.instanceOf(IcwsAuthenticationError);
    expect(classify(answer(400, { errorId: AUTH, message: 'x' }, 'connect'))).to.include({ reason: 'auth-failure', description: 'authentication failed' });
    expect(answer(400, { errorId: AUTH, message: 'x' }, 'connect').message)
      .to.include('icws.user')
      .and.include('icws.password');
  });

  it('any 401 on a session request is session gone, whatever the body, and never speaks of credentials', () => {
    const variants: unknown[] = [
      { errorId: AUTH, errorCode: -2147221499, message: 'The session identifier is invalid.' },
      { errorCode: 1, message: 'm' },
      { errorCode: 2, message: 'm' },
      undefined,
      { message: 'odd' },
    ];
    for (const body of variants) {
      const err = answer(401, body, 'session');
      expect(err, JSON.stringify(body)).to.be.instanceOf(IcwsUnauthorizedError);
      expect(classify(err)).to.include({ reason: 'unauthorized', description: 'session expired' });
      expect(err.message)
        .to.include('the session is gone')
        .and.not.match(/credential|password|icws\.user|authentication/i);
    }
    expect(answer(401, { errorCode: 2, message: 'm' }, 'session').message).to.include('errorCode 2: the server knows no such session');
  });

  it('410 names the resource path; 503 on connect lists the alternate hosts; 503 elsewhere is a server error', () => {
    const gone = answer(410, { errorId: 'error.request.gone', message: 'Removed.' }, 'session', 'messaging/subscriptions/configuration/users/icwatch');
    expect(gone).to.be.instanceOf(IcwsGoneError);
    expect(gone.message).to.include('messaging/subscriptions/configuration/users/icwatch').and.include('410 Gone');
    const unavailable = answer(503, { errorId: 'error.server.notAcceptingConnections', message: 'm', alternateHostList: ['b'] }, 'connect');
    expect(unavailable).to.be.instanceOf(IcwsUnavailableError);
    expect((unavailable as IcwsUnavailableError).alternateHostList).to.deep.equal(['b']);
    const busy = answer(503, { message: 'busy' }, 'session');
    expect(busy).to.be.instanceOf(IcwsError).and.not.be.instanceOf(IcwsUnavailableError);
    expect(classify(busy).reason).to.equal('server-error');
  });
});
