/**
 * A full replace read from a server-sent event is handed on as soon as its `added` list begins, its users arriving
 * while the rest is read (src/icws/arriving-users.ts): handed on once, ended complete or cut short with the reason,
 * and bounded (the reader is told to wait while the writer is behind).
 */
import { expect } from 'chai';
import { ArrivingUsers } from '../../src/icws/arriving-users.js';
import { StreamedMessage } from '../../src/icws/message-stream.js';
import { USERS_MESSAGE, type UsersMessage } from '../../src/icws/messages.js';
import { SseReader } from '../../src/icws/transport/sse-reader.js';
import type { ParseOutcome } from '../../src/icws/parse.js';
import type { ReplaceUser } from '../../src/mirror/input.js';

const user = (id: string) => ({ configurationId: { id, displayName: id.toUpperCase(), uri: `/configuration/users/${id}` }, extension: `1${id}` });
const replaceText = (ids: string[], head = `"__type":"${USERS_MESSAGE}","isDelta":false,"subscriptionId":"s"`) =>
  `{${head},"added":${JSON.stringify(ids.map(user))}}`;
const idsOf = (users: ReplaceUser[]) => users.map((u) => ('id' in u ? u.id : '?'));

function takeAll(arriving: ArrivingUsers): ReplaceUser[] {
  const taken: ReplaceUser[] = [];
  for (let u = arriving.next(); u; u = arriving.next()) taken.push(u);
  return taken;
}

/** A StreamedMessage that hands a full replace on; what it handed on. */
function handingOn() {
  const handedOn: UsersMessage[] = [];
  const message = new StreamedMessage(1 << 20, undefined, (m) => handedOn.push(m));
  return { message, handedOn };
}

describe('a full replace handed on while it arrives', () => {
  const ids = Array.from({ length: 30 }, (_, i) => `u${i}`);

  it('is handed on when its users begin, and they arrive as they are read, each once', async () => {
    const { message, handedOn } = handingOn();
    const text = replaceText(ids);
    const half = text.indexOf('"u15"');
    message.write(text.slice(0, half));
    expect(handedOn).to.have.length(1);
    expect(handedOn[0]).to.deep.include({ __type: USERS_MESSAGE, isDelta: false, subscriptionId: 's' });
    const arriving = handedOn[0]!.arrivingUsers!;
    // Users u0..u14 are read; u15 is not yet whole.
    expect(idsOf(takeAll(arriving))).to.deep.equal(ids.slice(0, 15));
    expect(arriving.ended).to.equal(undefined);
    let woken = false;
    const more = arriving.whenMore().then(() => (woken = true));
    message.write(text.slice(half));
    await more;
    expect(woken).to.equal(true);
    const outcome = message.end();
    expect(outcome.kind).to.equal('message');
    expect(message.handedOn).to.equal(true);
    expect(idsOf(takeAll(arriving))).to.deep.equal(ids.slice(15));
    expect(arriving.ended).to.deep.equal({ complete: true });
    expect(arriving.taken).to.equal(30);
  });

  it('is not handed on when it says it is a full replace only after its users (it is then read whole, as before)', () => {
    for (const text of [
      `{"__type":"${USERS_MESSAGE}","added":${JSON.stringify(ids.map(user))},"isDelta":false,"subscriptionId":"s"}`,
      replaceText(ids, `"__type":"${USERS_MESSAGE}","isDelta":false`),
      replaceText(ids, `"__type":"${USERS_MESSAGE}","isDelta":true,"subscriptionId":"s"`),
    ]) {
      const { message, handedOn } = handingOn();
      message.write(text);
      const outcome = message.end();
      expect(handedOn, text.slice(0, 80)).to.deep.equal([]);
      expect(message.handedOn).to.equal(false);
      expect(outcome.kind).to.equal('message');
    }
  });

  it('is cut short, saying why, when its text turns out malformed or its stream ends inside it', () => {
    const { message, handedOn } = handingOn();
    message.write(replaceText(ids).replace(/\}$/, ',"removed":[7]}'));
    const outcome = message.end() as Extract<ParseOutcome, { kind: 'malformed' }>;
    expect(outcome.kind).to.equal('malformed');
    const arriving = handedOn[0]!.arrivingUsers!;
    expect(takeAll(arriving)).to.have.length(30);
    expect(arriving.ended).to.deep.equal({ complete: false, problem: `the message turned out malformed: ${outcome.reason}` });

    const cut = handingOn();
    cut.message.write(replaceText(ids).slice(0, 500));
    cut.message.abandon('its stream ended');
    const cutUsers = cut.handedOn[0]!.arrivingUsers!;
    takeAll(cutUsers);
    expect(cutUsers.ended).to.deep.equal({ complete: false, problem: 'its stream ended' });
  });

  it('is reported once by the event reader: when its users begin, and again only if it ends malformed', () => {
    const outcomes: ParseOutcome[] = [];
    const reader = new SseReader(1 << 20, { onMessage: (o) => outcomes.push(o), onRetry: () => {} });
    reader.feed(`data: ${replaceText(ids)}\n\n`);
    expect(outcomes).to.have.length(1);
    expect((outcomes[0] as { message: UsersMessage }).message.arrivingUsers).to.be.instanceOf(ArrivingUsers);
    reader.feed(`data: ${replaceText(ids).slice(0, -1)}x}\n\n`);
    expect(outcomes.map((o) => o.kind)).to.deep.equal(['message', 'message', 'malformed']);
  });

  it('holds at most its bound of users read ahead: the reader waits until the writer took half, or let go of them', async () => {
    const arriving = new ArrivingUsers(10);
    for (let i = 0; i < 9; i++) arriving.put({ kind: 'checked', id: `u${i}`, props: new Map() });
    expect(arriving.room()).to.equal(undefined);
    arriving.put({ kind: 'checked', id: 'u9', props: new Map() });
    let room = false;
    const waited = arriving.room()!.then(() => (room = true));
    for (let i = 0; i < 4; i++) arriving.next();
    await new Promise((r) => setImmediate(r));
    expect(room, 'six still wait').to.equal(false);
    arriving.next();
    await waited;
    expect(arriving.waiting).to.equal(5);

    // Dropped (the pipeline will never begin it): the reader never waits, and what it reads is let go.
    const dropped = new ArrivingUsers(2);
    dropped.put({ kind: 'checked', id: 'a', props: new Map() });
    dropped.put({ kind: 'checked', id: 'b', props: new Map() });
    const released = dropped.room()!;
    dropped.drop();
    await released;
    dropped.put({ kind: 'checked', id: 'c', props: new Map() });
    expect(dropped.waiting).to.equal(0);
    expect(dropped.room()).to.equal(undefined);
  });
});
