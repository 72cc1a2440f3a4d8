/** The daemon's Redis client: reaches Redis, keeps its password out of logs, and never queues commands forever. */
import { expect } from 'chai';
import { DEFAULTS } from '../../src/config/defaults.js';
import { createRedisClient, describeRedis, quitRedis, redisAnswers } from '../../src/redis/client.js';
import { silentLogger } from '../../src/log/logger.js';
import { redactText } from '../../src/log/redact.js';
import { freePort } from '../helpers/net.js';
import { SHARED_REDIS_URL } from '../helpers/redis.js';

const redisConfig = (url: string) => ({ ...structuredClone(DEFAULTS.redis), url, backoff: { initialMs: 20, maxMs: 50, multiplier: 2, jitter: 0 } });

describe('daemon Redis client', () => {
  it('answers PING on a standalone URL', async () => {
    const client = createRedisClient(redisConfig(SHARED_REDIS_URL), silentLogger());
    try {
      await client.ping();
      expect(await redisAnswers(client)).to.equal(true);
    } finally {
      await quitRedis(client);
    }
  });

  it('keeps the password of redis.url out of descriptions and log text', () => {
    const config = redisConfig('redis://reader:S3cret-redis-pw@redis.example.com:6380/2');
    const client = createRedisClient(config, silentLogger(), { connectTimeoutMs: 10 });
    client.disconnect();
    expect(describeRedis(config)).to.equal('redis://reader:[redacted]@redis.example.com:6380/2');
    expect(redactText('AUTH failed for S3cret-redis-pw')).not.to.include('S3cret-redis-pw');
  });

  it('fails a command issued while Redis is unreachable instead of queueing it forever', async () => {
    const client = createRedisClient(redisConfig(`redis://127.0.0.1:${await freePort()}`), silentLogger());
    try {
      const err = await client.get('anything').then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err, 'the command failed').to.be.instanceOf(Error);
      expect(await redisAnswers(client)).to.equal(false);
    } finally {
      client.disconnect();
    }
  });
});
