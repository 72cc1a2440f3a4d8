/**
 * A full replace whose users arrive while it is written (src/icws/arriving-users.ts, ReplacePlanner): Redis holds
 * its first users before its last one was read, the users it omits are removed only once it ended complete, and one
 * cut short applies what it carried and removes nobody.
 */
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { ArrivingUsers } from '../../src/icws/arriving-users.js';
import { StreamedMessage } from '../../src/icws/message-stream.js';
import { USERS_MESSAGE, type ReceivedUsersMessage, type UsersMessage } from '../../src/icws/messages.js';
import { createLogger, silentLogger } from '../../src/log/logger.js';
import { ChunkBuilder } from '../../src/mirror/chunk-builder.js';
import { ListedUsers, type CheckedUser, type ReplaceUsers } from '../../src/mirror/input.js';
import { ReplacePlanner } from '../../src/mirror/planner.js';
import { MirrorState } from '../../src/mirror/state.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { waitFor } from '../helpers/net.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { metricValue, readMirrorView, startMirror, user, waitIdle, type Harness } from './fixtures.js';

describe('mirror: a full replace written while it arrives', function () {
  this.timeout(30000);
  let redis: Redis;
  let prefix: string;
  let h: Harness;
  let logLines: string[];

  beforeEach(async () => {
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('arriving');
    logLines = [];
    const stream = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        logLines.push(chunk.toString());
        done();
      },
    });
    h = await startMirror(redis, prefix, { replaceBatchSize: 50, logger: createLogger({ level: 'info', stream }) });
  });
  afterEach(async () => {
    await h.mirror.drain(2000);
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `u${from + i}`);
  /** The replace's text as a server sends it, read by a StreamedMessage that hands it on to the mirror when its users begin. */
  const arriving = (users: string[]) => {
    const text = JSON.stringify({
      __type: USERS_MESSAGE,
      isDelta: false,
      subscriptionId: 'icwatch',
      added: users.map((id) => user(id, { extension: `x${id}` })),
    });
    const message = new StreamedMessage(DEFAULTS.icws.maxMessageBytes, h.mirror.writer, (m: UsersMessage) =>
      h.source.next({ message: m, receivedAt: performance.now(), icServer: 'ic1' } satisfies ReceivedUsersMessage),
    );
    return { text, message };
  };

  it('writes the users read so far before the rest arrive, and removes the users it omits only at its end', async () => {
    await h.apply({
      message: { __type: USERS_MESSAGE, isDelta: false, subscriptionId: 'icwatch', added: [user('gone1'), user('gone2'), user('u0')] },
      receivedAt: performance.now(),
      icServer: 'ic1',
    });
    const { text, message } = arriving(ids(400));
    const half = text.indexOf('"u300"');
    message.write(text.slice(0, half));
    // The writer plans and writes them while the message is still unread past u299.
    await waitFor('users written before the end', async () => (await redis.scard(mirrorKeys(prefix).ids)) >= 250, 10000);
    let view = await readMirrorView(redis, prefix);
    expect(view.ids).to.include.members(['gone1', 'gone2']);
    expect(view.meta.syncing).to.equal('1');
    expect(h.mirror.status().syncing).to.equal(true);
    message.write(text.slice(half));
    expect(message.end().kind).to.equal('message');
    await waitIdle(h.metrics);
    view = await readMirrorView(redis, prefix);
    expect(view.ids.sort()).to.deep.equal(ids(400).sort());
    expect(view.users.u399).to.deep.include({ extension: 'xu399' });
    expect(view.meta.syncing).to.equal('0');
    expect(view.changes.filter((c) => c.op === 'remove').map((c) => c.id)).to.deep.equal(['gone1', 'gone2']);
    expect(await metricValue(h.metrics, 'fullSyncs', { reason: 'server' })).to.equal(2);
  });

  it('cut short, applies the users it carried and removes nobody, saying so; not counted as a full sync', async () => {
    await h.apply({
      message: { __type: USERS_MESSAGE, isDelta: false, subscriptionId: 'icwatch', added: [user('stays')] },
      receivedAt: performance.now(),
      icServer: 'ic1',
    });
    const { text, message } = arriving(ids(120));
    message.write(text.slice(0, text.indexOf('"u100"')));
    message.abandon('its stream broke (test)');
    await waitIdle(h.metrics);
    await waitFor('the replace ended', () => h.mirror.status().phase.type === 'ready');
    const view = await readMirrorView(redis, prefix);
    expect(view.ids.sort()).to.deep.equal(['stays', ...ids(100)].sort());
    expect(view.changes.filter((c) => c.op === 'remove')).to.deep.equal([]);
    expect(view.meta.syncing, 'another full replace must come').to.equal('1');
    expect(await metricValue(h.metrics, 'fullSyncs', { reason: 'server' })).to.equal(1);
    expect(logLines.join('')).to.include('a full replace was cut short (its stream broke (test)): the users it carried are applied, nobody is removed');
  });

  describe('planned again after a failed write', () => {
    const checked = (id: string): CheckedUser => ({ kind: 'checked', id, props: new Map([['extension', `"${id}"`]]) });
    /**
     * A planner of a replace of `users`, as the writer makes one: against memory loaded from Redis, which holds `held`
     * (the chunk whose write failed is not in it).
     */
    const planner = (held: string[], users: ReplaceUsers) => {
      const state = new MirrorState(['extension']);
      for (const id of held) state.setExact(new ChunkBuilder(), checked(id));
      const received = { input: { kind: 'replace' as const, users }, receivedAt: performance.now(), icServer: 'ic1' };
      const options = { replaceBatchSize: 2, maxBatchMessages: 10, logger: silentLogger() };
      return { state, planner: new ReplacePlanner(state, { kind: 'replace', received, reason: 'subscribe' }, options) };
    };
    const planAll = (p: ReplacePlanner) => {
      const chunks = [];
      for (let c = p.plan(); ; c = p.plan()) {
        chunks.push(c);
        if (c.done) return chunks;
      }
    };

    it('a replace that arrived whole starts again from its first user, and removes the users it omits', () => {
      const users = new ListedUsers(['a', 'b', 'c'].map(checked));
      planner(['a', 'gone'], users).planner.plan(); // the first chunk, whose write failed
      const { state, planner: again } = planner(['a', 'gone'], users);
      const last = planAll(again).at(-1)!;
      expect(last).to.include({ fullSync: 'subscribe' });
      expect(last.incompleteReplace).to.equal(undefined);
      expect([...state.users.keys()].sort()).to.deep.equal(['a', 'b', 'c']);
    });

    it('a replace handed on while it arrived applies the rest, removes nobody, and asks ICWS for another', () => {
      const users = new ArrivingUsers();
      for (const id of ['a', 'b', 'c']) users.put(checked(id));
      users.end({ complete: true });
      planner(['a', 'gone'], users).planner.plan(); // a and b taken; the write failed
      const { state, planner: again } = planner(['a', 'gone'], users);
      const last = planAll(again).at(-1)!;
      expect(last.fullSync).to.equal(undefined);
      expect(last.incompleteReplace).to.deep.equal({ problem: 'planned again after a failed write, without the 2 users read before it', askAgain: true });
      expect([...state.users.keys()].sort()).to.deep.equal(['a', 'c', 'gone']);
    });
  });
});
