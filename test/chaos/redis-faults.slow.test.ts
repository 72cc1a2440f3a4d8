/**
 * Redis going away while changes flow, and icwatch killed in the middle of a large full replace.
 */
import { expect } from 'chai';
import { waitFor } from '../helpers/net.js';
import { Stack, leakedSecrets } from './harness.js';

describe('chaos: Redis and process faults', function () {
  this.timeout(180000);

  describe('Redis', () => {
    let stack: Stack;
    before(async () => {
      stack = await Stack.start({ users: 300 });
      await stack.converged();
    });
    after(async () => stack?.close());

    it('restarted while changes flow: the mirror converges, seq stays gap-free', async () => {
      const before = (await stack.seqProblems()).seq;
      stack.sim.control.churn(40);
      await stack.redis.stop();
      stack.sim.control.churn(40);
      await stack.redis.start();
      stack.sim.control.churn(40);
      const { seq } = await stack.converged();
      expect(seq).to.be.greaterThan(before);
    });

    it('unavailable for 10 s under churn: nothing lost once it is back', async () => {
      await stack.redis.stop();
      for (let i = 0; i < 10; i++) {
        stack.sim.control.churn(20);
        await new Promise((r) => setTimeout(r, 1000));
      }
      expect((await stack.icwatch.get('/readyz')).status).to.equal(503);
      await stack.redis.start();
      await stack.converged(60000);
      await waitFor('readyz 200', async () => (await stack.icwatch.get('/readyz')).status === 200, 20000);
      expect((await stack.icwatch.get('/metrics')).text).to.match(/icwatch_redis_errors_total [1-9]/);
    });

    it('no secret or session credential reached any output', () => {
      expect(leakedSecrets(stack.output(), stack.sim.control.issuedCredentials())).to.deep.equal([]);
    });
  });

  describe('SIGKILL in the middle of a large full replace', () => {
    let stack: Stack;
    before(async () => {
      stack = await Stack.start({ users: 20000, env: { ICWATCH_REDIS_REPLACE_BATCH_SIZE: '200' } });
    });
    after(async () => stack?.close());

    it('the restarted daemon converges, keeps the epoch, and seq stays gap-free', async () => {
      // The first full replace is under way: some users written, not all.
      await waitFor(
        'a full replace half applied',
        async () => {
          const [syncing, users] = await Promise.all([stack.reader.hget(stack.keys.meta, 'syncing'), stack.reader.scard(stack.keys.ids)]);
          return syncing === '1' && users > 0 && users < 20000;
        },
        60000,
        5,
      );
      const epoch = await stack.reader.hget(stack.keys.meta, 'epoch');
      await stack.restartIcwatch('SIGKILL');
      stack.sim.control.churn(50);
      const { users } = await stack.converged(90000);
      expect(users).to.be.greaterThan(19000);
      expect(await stack.reader.hget(stack.keys.meta, 'epoch')).to.equal(epoch);
      expect(await stack.reader.hget(stack.keys.meta, 'syncing')).to.equal('0');
      expect(leakedSecrets(stack.output(), stack.sim.control.issuedCredentials())).to.deep.equal([]);
    });
  });
});
