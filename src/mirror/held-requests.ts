/**
 * The operator's requests about held removals reaching the leader's writer (README "Mass deletions are held"):
 * `icwatch removals --apply | --discard` writes its request into `{P}:held:info` (field `request`) and publishes on
 * `{P}:held:requests`; this turns each into a write item, which the pipeline applies in order with the messages.
 *
 * The publish is only a wake-up: the request is read from the hash. A request pending when the writer starts (made
 * while no replica led, or taken by a leader that stopped before finishing it) is picked up at once.
 */
import { Observable } from 'rxjs';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log/logger.js';
import { parseHeldRequest } from './held.js';
import type { MirrorKeys } from './keys.js';
import type { WriteItem } from './write-batch.js';

type RedisClient = Redis | Cluster;

export function heldRequests$(redis: RedisClient, createSubscriber: () => RedisClient, keys: MirrorKeys, logger: Logger): Observable<WriteItem> {
  return new Observable<WriteItem>((subscriber) => {
    const sub = createSubscriber();
    let closed = false;
    /** `pendingOnly`: a wake-up; a request another writer took is not ours to take again while it works on it. */
    const look = (pendingOnly: boolean) =>
      redis.hget(keys.heldInfo, 'request').then(
        (field) => {
          const request = parseHeldRequest(field);
          if (!request || closed || (pendingOnly && field !== request.value)) return;
          logger.info(`icwatch removals asks to ${request.action} the held removals`, { request: request.value });
          subscriber.next({ kind: 'held', request });
        },
        (err: unknown) => logger.warn(`could not read the held-removals request: ${(err as Error).message}`),
      );
    sub.on('message', (channel: string) => {
      if (channel === keys.heldRequests) void look(true);
    });
    // A failed SUBSCRIBE only costs the wake-up: the CLI publishes again while it waits.
    sub.subscribe(keys.heldRequests).then(
      () => look(false),
      () => look(false),
    );
    return () => {
      closed = true;
      sub.disconnect();
    };
  });
}
