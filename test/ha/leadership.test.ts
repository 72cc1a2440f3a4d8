/**
 * The leadership state machine in-process, on a private redis-server, with writers that record what they were
 * asked: exactly one leader out of replicas started together, a handover on stop, a step-down when the lease is
 * taken, when a write is refused for its fence, and when Redis stops answering past the lease.
 */
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { LeaseStore } from '../../src/ha/lease.js';
import { Leadership, type LeadershipState, type TermFence } from '../../src/ha/leadership.js';
import { createLogger } from '../../src/log/logger.js';
import { mirrorKeys } from '../../src/mirror/keys.js';
import { waitFor } from '../helpers/net.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../helpers/redis.js';

interface Replica {
  id: string;
  leadership: Leadership;
  /** What happened, in order: `start <fence>`, `stop <how>`. */
  events: string[];
  /** The lease holder as each writer stop began. */
  holders: Array<string | null>;
  terms: TermFence[];
  states: LeadershipState['type'][];
  log(): string;
}

describe('ha: leadership', function () {
  this.timeout(30000);
  let server: PrivateRedis;
  let redis: Redis;
  let prefix: string;
  const replicas: Replica[] = [];
  const clients: Redis[] = [];

  before(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis.disconnect();
    await server.destroy();
  });
  beforeEach(() => (prefix = uniquePrefix('leadership')));
  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((r) => r.leadership.stop()));
    for (const c of clients.splice(0)) c.disconnect();
  });

  function replica(id: string, timing = { leaseMs: 1000, renewMs: 200 }): Replica {
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    const sub = new Redis(server.url);
    sub.on('error', () => {});
    clients.push(client, sub);
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const keys = mirrorKeys(prefix);
    const events: string[] = [];
    const terms: TermFence[] = [];
    const holders: Array<string | null> = [];
    const leadership = new Leadership({
      enabled: true,
      lease: new LeaseStore(client, keys, id, timing.leaseMs),
      ...timing,
      replicaId: id,
      metrics: { leader: { set: () => {} }, leaderChanges: { inc: () => {} } },
      logger: createLogger({ stream: out, level: 'info' }),
      startTerm: async (term) => {
        events.push(`start ${term.fence}`);
        terms.push(term);
        return {
          stop: async (how) => {
            events.push(`stop ${how}`);
            holders.push(await redis.get(keys.leader));
          },
        };
      },
      onReleased: (released) => {
        sub.on('message', (_channel: string, by: string) => released(by));
        void sub.subscribe(keys.leaderReleased);
        return () => void sub.unsubscribe();
      },
    });
    const states: LeadershipState['type'][] = [];
    leadership.state$.subscribe((s) => states.push(s.type));
    const r = { id, leadership, events, terms, holders, states, log: () => text };
    replicas.push(r);
    return r;
  }

  const leaders = () => replicas.filter((r) => r.leadership.isLeader);

  it('three replicas started at the same instant: exactly one leads, the others stand by naming it, without warnings', async () => {
    const all = ['a', 'b', 'c'].map((id) => replica(id));
    all.forEach((r) => r.leadership.start());
    await waitFor('a leader and two standbys', () => leaders().length === 1 && all.filter((r) => r.leadership.state.type === 'standby').length === 2);
    await new Promise((r) => setTimeout(r, 1500)); // several lease periods: nothing changes
    const [leader] = leaders();
    expect(leaders()).to.have.lengthOf(1);
    expect(leader!.events).to.deep.equal(['start 1']);
    for (const r of all.filter((x) => x !== leader)) {
      expect(r.leadership.state).to.include({ type: 'standby', leader: leader!.id });
      expect(r.events).to.deep.equal([]);
      expect(r.log().match(/standing by: the leader is/g)).to.have.lengthOf(1);
    }
    for (const r of all) expect(r.log()).not.to.match(/"level":"warn"/);
  });

  it('stop(): the writer hands over while the lease is still held, then the lease is released and a standby takes over at once', async () => {
    const a = replica('a', { leaseMs: 5000, renewMs: 1000 });
    a.leadership.start();
    await waitFor('a leads', () => a.leadership.isLeader);
    const b = replica('b', { leaseMs: 5000, renewMs: 1000 });
    b.leadership.start();
    await waitFor('b stands by', () => b.leadership.state.type === 'standby');
    const t0 = Date.now();
    await a.leadership.stop();
    expect(a.events).to.deep.equal(['start 1', 'stop handover']);
    expect(a.holders).to.deep.equal(['a']);
    await waitFor('b leads', () => b.leadership.isLeader);
    // Woken by the release, not by its next poll or the lease's expiry.
    expect(Date.now() - t0).to.be.lessThan(900);
    expect(b.events).to.deep.equal(['start 2']);
    expect(a.leadership.state.type).to.equal('stopped');
  });

  it('steps down when the lease is taken over under it, and when its writer reports a refused write', async () => {
    const a = replica('a');
    a.leadership.start();
    await waitFor('a leads', () => a.leadership.isLeader);
    // An operator (or a split) hands the lease to someone else: a loses it at its next renew. In one step, as
    // lease-acquire.lua does it (a DEL first would let a renew in between find no holder at all).
    const keys = mirrorKeys(prefix);
    await redis.multi().set(keys.leader, 'intruder', 'PX', 1000).hincrby(keys.meta, 'fence', 1).exec();
    // The writer's stop records who holds the lease after an await of its own: wait for that too.
    await waitFor('a steps down', () => a.events.length === 2 && a.holders.length === 1);
    expect(a.events[1]).to.equal('stop deposed');
    expect(a.holders[0]).to.equal('intruder');
    expect(a.states).to.include.members(['leader', 'stepping-down', 'standby']);
    expect(a.log()).to.include('stepping down: the lease was taken over (holder intruder, fence 2; ours 1)');

    // Free again: a leads under fence 3; then its writer reports a refused write.
    await redis.del(mirrorKeys(prefix).leader);
    await waitFor('a leads again', () => a.leadership.isLeader && a.events.length === 3);
    expect(a.events[2]).to.equal('start 3');
    a.terms[1]!.fenced("ours 3, meta's 4");
    await waitFor('a steps down again', () => a.events.length >= 4);
    expect(a.events[3]).to.match(/^stop deposed/);
    expect(a.log()).to.include('a write was refused for its fence');
  });

  it('steps down by itself once its lease would have expired while Redis does not answer', async () => {
    const a = replica('a', { leaseMs: 600, renewMs: 150 });
    a.leadership.start();
    await waitFor('a leads', () => a.leadership.isLeader);
    // Every client is paused: the renew gets no answer; a must stop writing before the lease can run out in Redis.
    const t0 = Date.now();
    await redis.call('CLIENT', 'PAUSE', '1500', 'ALL');
    await waitFor('a steps down', () => a.events.some((e) => e.startsWith('stop deposed')), 5000, 10);
    const tookMs = Date.now() - t0;
    expect(tookMs).to.be.lessThan(1500);
    expect(a.log()).to.match(/stepping down: could not renew the lease within ha.leaseMs \(600 ms\)/);
    // Redis answers again: a takes the lease back under a new fence.
    await waitFor('a leads again', () => a.leadership.isLeader && a.events.length === 3, 10000);
    expect(a.events[2]).to.equal('start 2');
  });

  it('with ha.enabled false it leads at once, unfenced, and stop() hands over', async () => {
    const events: string[] = [];
    const l = new Leadership({
      enabled: false,
      leaseMs: 1000,
      renewMs: 200,
      replicaId: 'solo',
      metrics: { leader: { set: () => {} }, leaderChanges: { inc: () => {} } },
      logger: createLogger({ silent: true }),
      startTerm: async (term) => {
        events.push(`start ${term.fence}`);
        return { stop: async (how) => void events.push(`stop ${how}`) };
      },
    });
    l.start();
    await waitFor('leading', () => l.isLeader);
    await l.stop();
    expect(events).to.deep.equal(['start undefined', 'stop handover']);
    expect(await redis.exists(mirrorKeys(prefix).leader)).to.equal(0);
  });
});
