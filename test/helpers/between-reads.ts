/** A Redis client on which a test's writes land in the middle of a reader's snapshot (between its S0 and S1). */
import type { Redis } from 'ioredis';

/**
 * The client, with `between` run once right after the first pipelined read of user hashes (`{P}:user:<id>`), so that
 * what it writes lands after those users were read and before the snapshot reads its end seq S1.
 */
export function writeAfterFirstUserRead(redis: Redis, between: () => Promise<void>): Redis {
  let done = false;
  return new Proxy(redis, {
    get(target, prop) {
      if (prop === 'pipeline')
        return () => {
          const pipe = target.pipeline();
          let readsUsers = false;
          const hgetall = pipe.hgetall.bind(pipe) as (...args: unknown[]) => typeof pipe;
          (pipe as unknown as { hgetall: (...args: unknown[]) => typeof pipe }).hgetall = (...args: unknown[]) => {
            if (String(args[0]).includes(':user:')) readsUsers = true;
            return hgetall(...args);
          };
          const exec = pipe.exec.bind(pipe);
          pipe.exec = async () => {
            const replies = await exec();
            if (readsUsers && !done) {
              done = true;
              await between();
            }
            return replies;
          };
          return pipe;
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
