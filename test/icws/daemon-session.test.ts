/**
 * `icwatch run` (a child process, real Redis) against the simulator in its default mode, which answers as real
 * servers do: a session the server expires is replaced within 2 s, the mirror converges, and neither the log nor
 * /readyz speak of credentials; a wrong password is tried at most once per icws.backoff.maxMs while /readyz says
 * 503 authentication failed.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { mirrorDifference } from '../helpers/mirror.js';
import { killAll, startIcwatch, type IcwatchProcess } from '../helpers/processes.js';

const CREDENTIALS = /credential|password|icws\.user|authentication failed|refused the login/i;

describe('icwatch run against a simulator answering as real servers do', function () {
  this.timeout(60000);
  let redis: Redis;
  let prefix: string;
  let sim: Simulator | undefined;
  let icwatch: IcwatchProcess | undefined;

  const env = (over: Record<string, string> = {}) => ({
    ICWATCH_ICWS_URL: sim!.url,
    ICWATCH_ICWS_PASSWORD: 'icwatch',
    ICWATCH_ICWS_BACKOFF_INITIAL_MS: '5000', // a daemon that waited for its backoff would miss the 2 s
    ICWATCH_ICWS_BACKOFF_MAX_MS: '60000',
    ICWATCH_REDIS_URL: SHARED_REDIS_URL,
    ICWATCH_REDIS_KEY_PREFIX: prefix,
    ...over,
  });
  const connects = () => sim!.control.requests.filter((r) => r.name === 'connect');

  beforeEach(async () => {
    redis ??= new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('icws-real');
    sim = await startSimulator({ users: 40 });
  });
  afterEach(async () => {
    await icwatch?.stop('SIGKILL');
    icwatch = undefined;
    await sim?.close();
    killAll();
    await dropPrefix(redis, prefix);
  });
  after(() => redis?.quit());

  it('replaces a session the server expired within 2 s; the mirror converges; log and /readyz never mention credentials', async () => {
    icwatch = await startIcwatch(env());
    await waitFor('/readyz 200', async () => (await icwatch!.get('/readyz')).status === 200, 20000, 50);
    const readyz: string[] = [];
    const watching = (async () => {
      for (let i = 0; i < 60 && icwatch; i++) {
        readyz.push((await icwatch.get('/readyz')).text);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    const expiredAt = Date.now();
    sim!.control.expireSessions();
    const truth = sim!.control.users();
    sim!.control.setProperties(truth[0]!.configurationId.id, { statusText: 'Changed while the session was gone' });
    await waitFor('a second login', () => connects().length >= 2, 5000, 20);
    expect(connects()[1]!.at - expiredAt).to.be.lessThan(2000);
    let difference = '';
    await waitFor(
      'the mirror to equal the simulator',
      async () => (difference = await mirrorDifference(redis, mirrorKeys(prefix), sim!.control.users())) === '',
      10000,
      50,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${difference}`);
    });
    await waitFor('/readyz 200 again', async () => (await icwatch!.get('/readyz')).status === 200, 5000, 50);
    await watching;

    expect(readyz.filter((t) => CREDENTIALS.test(t))).to.deep.equal([]);
    const lines = icwatch
      .stdout()
      .split('\n')
      .filter((l) => CREDENTIALS.test(l));
    expect(lines).to.deep.equal([]);
    expect(icwatch.stdout()).to.include('logging in again now');
  });

  it('tries a wrong password at most once per icws.backoff.maxMs and answers /readyz 503 authentication failed', async () => {
    const maxMs = 1500;
    icwatch = await startIcwatch(
      env({ ICWATCH_ICWS_PASSWORD: 'not-the-password', ICWATCH_ICWS_BACKOFF_INITIAL_MS: '10', ICWATCH_ICWS_BACKOFF_MAX_MS: String(maxMs) }),
    );
    let body: { reason?: string } = {};
    await waitFor(
      '/readyz to say why',
      async () => {
        const r = await icwatch!.get('/readyz');
        body = JSON.parse(r.text) as { reason?: string };
        return r.status === 503 && (body.reason ?? '').includes('authentication failed');
      },
      10000,
      50,
    );
    await waitFor('three attempts', () => connects().length >= 3, 10000, 50);
    const times = connects().map((r) => r.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, `gap before attempt ${i + 1}`).to.be.at.least(maxMs - 20);
    expect(connects().every((r) => r.status === 400)).to.equal(true);
    expect(icwatch.stdout()).to.include('Check icws.user and icws.password').and.not.include('not-the-password');
  });
});
