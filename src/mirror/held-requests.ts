/**
 * The operator's requests about held removals reaching the leader's writer (README "Mass deletions are held"):
 * `icwatch removals --apply | --discard` writes its request into `{P}:held:info` (field `request`) and publishes on
 * `{P}:held:requests`; this turns each into a write item, which the pipeline applies in order with the messages.
 *
 * The publish is only a wake-up: the request is read from the hash. A request pending when the writer starts (made
 * while no replica led, or taken by a leader that stopped before finishing it) is picked up at once.
 * HeldRequestSender is the command's side: making or withdrawing a request, and waking the leader.
 */
import { Observable } from 'rxjs';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log/logger.js';
import { parseHeldRequest } from './held.js';
import { mirrorKeys, type MirrorKeys } from './keys.js';
import { MirrorReader } from './reader.js';
import { swapHeldRequest, type HeldRequestReply } from './store.js';
import type { WriteItem } from './write-batch.js';

type RedisClient = Redis | Cluster;

export function heldRequests$(redis: RedisClient, createSubscriber: () => RedisClient, keyPrefix: string, logger: Logger): Observable<WriteItem> {
  const keys = mirrorKeys(keyPrefix);
  const reader = new MirrorReader(redis, keyPrefix);
  return new Observable<WriteItem>((subscriber) => {
    const sub = createSubscriber();
    let closed = false;
    /** `pendingOnly`: a wake-up; a request another writer took is not ours to take again while it works on it. */
    const look = (pendingOnly: boolean) =>
      reader.heldRequest().then(
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

/** `icwatch removals --apply | --discard`: makes or withdraws a request (compare and set) and wakes the leader. */
export class HeldRequestSender {
  private readonly keys: MirrorKeys;

  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
  ) {
    this.keys = mirrorKeys(keyPrefix);
  }

  /** `expected` → `value` ('' = none), as lua/held-request.lua does it. */
  swap(expected: string, value: string): Promise<HeldRequestReply> {
    return swapHeldRequest(this.redis, this.keys, expected, value);
  }

  /** Only a wake-up: a leader that was reconnecting misses it, so the command publishes again while it waits. */
  async wakeLeader(value: string): Promise<void> {
    await this.redis.publish(this.keys.heldRequests, value);
  }
}
