/**
 * The users feed against the simulator in its default mode, which answers as real servers do (docs/icws.md
 * "Errors"): a dead session is a 401 whose errorId is the same as a refused login's, a refused login is a 400.
 * What tells them apart is the request, and the feed must get it right both ways.
 */
import { expect } from 'chai';
import type { SessionState } from '../../src/icws/feed.js';
import { startSimulator } from '../../src/simulator/index.js';
import { waitFor } from '../helpers/net.js';
import { FeedProbe, feedFixture, testConfig } from './harness.js';

const USERS = 12;
/** Anything a log line or a state might say that would send an operator to check the password. */
const CREDENTIALS = /credential|password|icws\.user|authentication failed|refused the login/i;

describe('ICWS users feed against a simulator answering as real servers do', () => {
  const t = feedFixture();

  const connects = () => t.sim.control.requests.filter((r) => r.name === 'connect');
  const reasons = (states: SessionState[]) => states.map((s) => ('reason' in s ? s.reason : ''));

  // A long first backoff: a feed that waited for it (rather than logging in again at once) would miss the 2 s.
  const slowBackoff = { initialMs: 5000, maxMs: 60000, multiplier: 2, jitter: 0 };

  for (const transport of ['poll', 'sse'] as const) {
    it(`${transport}: a session expired by the server is followed by a new login within 2 s and a full replace, never a word about credentials`, async () => {
      t.sim = await startSimulator({ users: USERS });
      t.probe = new FeedProbe(testConfig(t.sim.url, { icws: { transport, backoff: slowBackoff } })).start();
      await t.probe.fullReplace(1);
      const expiredAt = Date.now();
      t.sim.control.expireSessions();
      const again = await t.probe.fullReplace(2, 5000);
      expect(connects()).to.have.length(2);
      expect(connects()[1]!.at - expiredAt).to.be.lessThan(2000);
      expect(again.syncReason).to.equal('resubscribe');
      expect(again.message.added!.map((u) => u.configurationId.id).sort()).to.deep.equal(
        t.sim.control
          .users()
          .map((u) => u.configurationId.id)
          .sort(),
      );
      await waitFor('up again', () => t.probe.feed.state.type === 'up');
      expect(await t.probe.counter('icwsReconnects', { reason: 'unauthorized' })).to.equal(1);
      expect(await t.probe.counter('icwsReconnects', { reason: 'auth-failure' })).to.equal(0);
      expect(t.probe.logLines.filter((l) => CREDENTIALS.test(l))).to.deep.equal([]);
      expect(reasons(t.probe.states).filter((r) => CREDENTIALS.test(r))).to.deep.equal([]);
      expect(t.probe.states.some((s) => s.type === 'reconnecting' && s.reason === 'session expired' && s.retryInMs === 0)).to.equal(true);
    });
  }

  for (const [what, fault] of [
    ['errorCode 1 (session id of the wrong form)', { errorCode: 1, message: 'The session identifier is not in the expected format.' }],
    ['errorCode 2 (session not found)', { errorCode: 2, message: 'The session was not found.' }],
    [
      'authenticationFailure with errorCode -2147221499 (session invalid)',
      { errorId: 'error.request.connection.authenticationFailure', errorCode: -2147221499 },
    ],
    ['no body at all', { emptyBody: true }],
  ] as const) {
    it(`a 401 with ${what} on a message poll counts as session gone: a new login at once`, async () => {
      t.sim = await startSimulator({ users: USERS });
      t.probe = new FeedProbe(testConfig(t.sim.url, { icws: { transport: 'poll', backoff: slowBackoff } })).start();
      await t.probe.fullReplace(1);
      const at = Date.now();
      t.sim.control.injectFaults({ status: 401, route: 'messages', ...fault });
      const again = await t.probe.fullReplace(2, 5000);
      expect(again.syncReason).to.equal('resubscribe');
      expect(connects()).to.have.length(2);
      expect(connects()[1]!.at - at).to.be.lessThan(2000);
      expect(await t.probe.counter('icwsReconnects', { reason: 'unauthorized' })).to.equal(1);
      expect(await t.probe.counter('icwsReconnects', { reason: 'auth-failure' })).to.equal(0);
      expect(t.probe.logLines.filter((l) => CREDENTIALS.test(l))).to.deep.equal([]);
    });
  }

  it('a 401 on the subscription PUT of a working session is session gone too, not a configuration error', async () => {
    t.sim = await startSimulator({ users: USERS });
    t.probe = new FeedProbe(testConfig(t.sim.url, { icws: { transport: 'poll' } })).start();
    await t.probe.fullReplace(1);
    t.sim.control.injectFaults({ status: 401, route: 'subscription', method: 'PUT' });
    t.sim.control.injectRaw('{not json'); // unreadable: the feed asks a resync, whose PUT meets the 401
    await t.probe.fullReplace(2, 5000);
    expect(t.probe.error).to.equal(undefined);
    expect(await t.probe.counter('icwsReconnects', { reason: 'unauthorized' })).to.equal(1);
  });

  for (const refusedLoginStatus of [400, 401] as const) {
    it(`a wrong password (${refusedLoginStatus}${refusedLoginStatus === 400 ? ', as real servers answer' : ', the tidy variant'}) is tried at most once per icws.backoff.maxMs, and the state says authentication failed`, async () => {
      t.sim = await startSimulator({ users: USERS, refusedLoginStatus });
      const maxMs = 1200;
      t.probe = new FeedProbe(testConfig(t.sim.url, { icws: { password: 'wrong', backoff: { initialMs: 10, maxMs, multiplier: 2, jitter: 0.5 } } })).start();
      await waitFor('three login attempts', () => (connects().length >= 3 ? true : undefined), 10000);
      const times = connects().map((r) => r.at);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, `gap before attempt ${i + 1}`).to.be.at.least(maxMs - 20);
      expect(connects().every((r) => r.status === refusedLoginStatus)).to.equal(true);
      const refused = t.probe.states.filter((s) => s.type === 'reconnecting');
      expect(refused.length).to.be.greaterThan(0);
      expect(refused.every((s) => s.type === 'reconnecting' && s.reason === 'authentication failed' && s.retryInMs >= maxMs)).to.equal(true);
      const errors = t.probe.logLines.filter((l) => l.includes('"error"') && l.includes('refused the login'));
      expect(errors.length).to.equal(refused.length); // once per attempt
      expect(errors[0]).to.include('icws.password').and.not.include('"wrong"');
      expect(await t.probe.counter('icwsReconnects', { reason: 'auth-failure' })).to.equal(refused.length);
    });
  }
});
