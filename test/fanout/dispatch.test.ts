/**
 * A round's clients in the order it reaches them (src/fanout/dispatch.ts): a page read while a round is written goes
 * to the clients the round has not reached yet in the same write, and to the others in the next round; every client
 * gets every seq once, in order.
 */
import { expect } from 'chai';
import type { ChangeEntry } from '../../src/mirror/change.js';
import { Dispatcher, type DispatchCounters } from '../../src/fanout/dispatch.js';
import { ChangePage } from '../../src/fanout/frames.js';
import type { ClientSession } from '../../src/fanout/session.js';

const upsert = (seq: number): ChangeEntry => ({ op: 'upsert', seq, id: `u${seq}`, data: { statusText: `s${seq}` }, at: 0 });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A live client without filters whose writes (the seqs of each) are recorded. */
function client(): { session: ClientSession; writes: number[][] } {
  const writes: number[][] = [];
  const session = {
    request: { props: null, ids: null },
    phase: { name: 'live' },
    outbox: {
      push(buffer: Buffer) {
        writes.push([...buffer.toString('latin1').matchAll(/"seq":(\d+)/g)].map((m) => Number(m[1])));
        return true;
      },
    },
  };
  return { session: session as unknown as ClientSession, writes };
}

/** A dispatcher whose rounds yield every 2 clients. */
function twoAtATime(onHandedOff: (page: ChangePage) => void): { dispatcher: Dispatcher; counters: DispatchCounters } {
  const counters = { rounds: 0, clientsVisited: 0, writes: 0, heldBack: 0 };
  const dispatcher = new Dispatcher({
    sliceClients: 2,
    maxRoundEntries: 1000,
    counters,
    onSlowConsumer: () => expect.fail('no client is slow'),
    onHandedOff,
  });
  return { dispatcher, counters };
}

describe('fanout: dispatch', () => {
  it('hands a page read mid-round to the clients not reached yet in the same write, and to the others next round', async () => {
    const handedOff: number[][] = [];
    const { dispatcher, counters } = twoAtATime((page) => handedOff.push(page.entries.map((e) => e.seq)));
    const clients = Array.from({ length: 6 }, client);
    for (const c of clients) dispatcher.join(c.session, 10);

    expect(dispatcher.offer(new ChangePage([upsert(11)]))).to.equal(undefined); // room for it: nothing to wait for
    await turn(); // the round began: it wrote to the first slice of 2 clients and yields
    expect(dispatcher.offer(new ChangePage([upsert(12), upsert(13)]))).to.equal(undefined);
    for (let i = 0; i < 10; i++) await turn();

    expect(clients.slice(0, 2).map((c) => c.writes)).to.deep.equal([
      [[11], [12, 13]],
      [[11], [12, 13]],
    ]);
    for (const c of clients.slice(2)) expect(c.writes).to.deep.equal([[11, 12, 13]]);
    expect(counters.rounds).to.equal(2);
    // A page is handed off once every client has it: 11 after the first round, 12 and 13 after the second.
    expect(handedOff).to.deep.equal([[11], [12, 13]]);
  });

  it('skips, in the round under way, a client that left and one that joined again (it is then sent from its new seq)', async () => {
    const { dispatcher } = twoAtATime(() => {});
    const clients = Array.from({ length: 6 }, client);
    for (const c of clients) dispatcher.join(c.session, 10);

    void dispatcher.offer(new ChangePage([upsert(11)]));
    await turn(); // the first slice has 11
    dispatcher.leave(clients[3]!.session);
    dispatcher.join(clients[4]!.session, 11); // as after a resync through seq 11
    for (let i = 0; i < 10; i++) await turn();
    void dispatcher.offer(new ChangePage([upsert(12)]));
    for (let i = 0; i < 10; i++) await turn();

    expect(clients.map((c) => c.writes)).to.deep.equal([[[11], [12]], [[11], [12]], [[11], [12]], [], [[12]], [[11], [12]]]);
  });
});
