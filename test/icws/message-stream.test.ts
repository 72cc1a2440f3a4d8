/** A message read piece by piece (server-sent event data): the same outcome as parsing it whole, bounded per user. */
import { expect } from 'chai';
import { MessageTooLargeError, StreamedMessage } from '../../src/icws/message-stream.js';
import { SseReader } from '../../src/icws/transport/sse-reader.js';
import { parseMessage, type ParseOutcome } from '../../src/icws/parse.js';
import { USERS_MESSAGE } from '../../src/icws/messages.js';
import { KnownText, sentUserOf, type ReadUser } from '../../src/icws/read-users.js';
import { digestOf } from '../../src/util/digest.js';
import { withParsedUsers } from './harness.js';

const user = (id: string, extra: Record<string, unknown> = {}) => ({
  configurationId: { id, displayName: `N "${id}" \\ ü`, uri: `/configuration/users/${id}` },
  statusText: 'a, [b] {c}',
  ...extra,
});

function streamed(text: string, pieces: number[], max = 1 << 20): ParseOutcome {
  const m = new StreamedMessage(max);
  let at = 0;
  for (const p of pieces) {
    m.write(text.slice(at, at + p));
    at += p;
  }
  m.write(text.slice(at));
  const outcome = m.end();
  // A full replace's users come as text: compared here as the writer will parse them.
  return outcome.kind === 'message' ? { ...outcome, message: withParsedUsers(outcome.message) } : outcome;
}

describe('StreamedMessage: users whose text the mirror knows', () => {
  const known = (m: Record<string, unknown>, idOf: (digest: number) => string | undefined) => {
    const s = new StreamedMessage(1 << 20, { idOf, size: 2 });
    s.write(JSON.stringify(m));
    const outcome = s.end();
    if (outcome.kind !== 'message') throw new Error(outcome.kind);
    return outcome.message as { added: unknown[]; readUsers: ReadUser[] };
  };

  it('holds a new user of a full replace as its encoded properties, a known one as its text, each with its id and digest', () => {
    const users = [user('a', { extension: '2001', workgroups: [{ id: 'w' }] }), user('b')];
    const digestOfB = digestOf(JSON.stringify(users[1]));
    const m = known({ __type: USERS_MESSAGE, isDelta: false, subscriptionId: 's', added: users }, (d) => (d === digestOfB ? 'b' : undefined));
    expect(m.added).to.equal(undefined);
    // Checked (a new text is parsed to check it) and encoded as the mirror stores it, but not held parsed.
    const a = m.readUsers[0]!;
    expect(a).to.include({ kind: 'checked', id: 'a', textDigest: digestOf(JSON.stringify(users[0])) });
    expect([...(a as Extract<ReadUser, { kind: 'checked' }>).props]).to.deep.equal(Object.entries(users[0]!).map(([k, v]) => [k, JSON.stringify(v)]));
    expect(sentUserOf(a)).to.deep.equal(users[0]);
    // Known unchanged: neither parsed nor encoded; read only if the writer must plan it after all.
    const b = m.readUsers[1]!;
    expect(b).to.be.instanceOf(KnownText);
    expect(b).to.include({ kind: 'known', id: 'b', textDigest: digestOfB });
    expect(sentUserOf(b)).to.deep.equal(users[1]);
    const read = (b as KnownText).read();
    expect(read).to.include({ kind: 'checked', id: 'b', textDigest: digestOfB });
    expect([...(read as Extract<ReadUser, { kind: 'checked' }>).props]).to.deep.equal(Object.entries(users[1]!).map(([k, v]) => [k, JSON.stringify(v)]));
  });

  it('takes the id from the text itself when it does not name the user its digest points at', () => {
    const m = known({ __type: USERS_MESSAGE, isDelta: false, subscriptionId: 's', added: [user('a')] }, () => 'zz-someone-else');
    expect(m.readUsers[0]).to.include({ kind: 'checked', id: 'a' });
    expect(sentUserOf(m.readUsers[0]!)).to.deep.equal(user('a'));
  });

  it('parses them after all in anything but a full replace, wherever isDelta stands', () => {
    const users = [user('a'), user('b')];
    for (const m of [
      { __type: USERS_MESSAGE, isDelta: true, subscriptionId: 's', added: users },
      { __type: USERS_MESSAGE, added: users, subscriptionId: 's', isDelta: true },
    ]) {
      const parsed = known(m, () => 'a');
      expect(parsed.added).to.deep.equal(users);
      expect(parsed.readUsers).to.equal(undefined);
      expect(parsed.added.some((u) => u instanceof KnownText || (u as { kind?: unknown }).kind !== undefined)).to.equal(false);
    }
  });
});

describe('StreamedMessage: a message parsed as it arrives', () => {
  const message = {
    __type: USERS_MESSAGE,
    isDelta: false,
    subscriptionId: 's"1',
    added: [user('a'), user('b', { workgroups: [{ id: 'w' }] }), user('c')],
    removed: ['x', 'y'],
  };
  const text = JSON.stringify(message, null, 1);

  it('gives what parseMessage gives for the whole text, wherever the text is cut', () => {
    // Indented, and as JSON.stringify writes it (its users then read where they stand in each piece, in one pass).
    for (const each of [text, JSON.stringify(message)]) {
      const whole = parseMessage(each);
      expect(whole.kind).to.equal('message');
      for (let cut = 0; cut <= each.length; cut++) expect(streamed(each, [cut]), `cut at ${cut}`).to.deep.equal(whole);
      for (let a = 0; a <= each.length; a += 7) expect(streamed(each, [a, 90]), `cut at ${a} and ${a + 90}`).to.deep.equal(whole);
      expect(
        streamed(
          each,
          Array.from({ length: each.length }, () => 1),
        ),
      ).to.deep.equal(whole);
    }
    expect(streamed(JSON.stringify({ ...message, added: [] }), [5])).to.deep.equal(parseMessage({ ...message, added: [] }));
  });

  it('passes other messages and broken JSON to parseMessage unchanged', () => {
    const other = JSON.stringify({ __type: 'urn:inin.com:connection:connectionStateChangeMessage', previousConnectionState: 1, newConnectionState: 2 });
    expect(streamed(other, [7])).to.deep.equal(parseMessage(other));
    expect(streamed('{"__type": ', [3])).to.deep.equal(parseMessage('{"__type": '));
    const cut = streamed(text.slice(0, text.length - 40), [10]);
    expect(cut.kind).to.equal('malformed');
  });

  it('reports a bad user by list and position, as parseMessage does', () => {
    const bad = JSON.stringify({ ...message, added: [user('a'), user('b', { extension: 12 })] });
    const out = streamed(bad, [20]);
    expect(out).to.include({ kind: 'malformed', mayCarryChanges: true });
    expect(out.kind === 'malformed' && out.reason).to.equal((parseMessage(bad) as { reason: string }).reason);
  });

  it('bounds each user and the rest of the message, not the message: a list many times the bound is read', () => {
    const many = JSON.stringify({ __type: USERS_MESSAGE, isDelta: false, added: Array.from({ length: 500 }, (_, i) => user(`u${i}`)) });
    const out = streamed(many, [1000, 3000], 1024);
    expect(out.kind === 'message' && out.message.__type === USERS_MESSAGE && out.message.added?.length).to.equal(500);
    const big = JSON.stringify({ __type: USERS_MESSAGE, isDelta: false, added: [user('a'), user('b', { notes: 'x'.repeat(2000) })] });
    expect(() => streamed(big, [100], 1024)).to.throw(MessageTooLargeError, /added\[1\] of a usersMessage larger than 1024 bytes/);
    const fat = JSON.stringify({ __type: USERS_MESSAGE, isDelta: false, padding: 'y'.repeat(2000), added: [] });
    expect(() => streamed(fat, [100], 1024)).to.throw(MessageTooLargeError, /outside its user lists/);
  });
});

describe('SseReader: the event-stream format', () => {
  function read(text: string, cut: number) {
    const messages: ParseOutcome[] = [];
    const retries: number[] = [];
    const r = new SseReader(1 << 20, { onMessage: (o) => messages.push(o), onRetry: (ms) => retries.push(ms) });
    r.feed(text.slice(0, cut));
    r.feed(text.slice(cut));
    return { messages, retries };
  }

  it('reads data lines, CRLF / CR / LF line ends, comments, retry and ignores other fields, wherever the stream is cut', () => {
    const a = JSON.stringify({ __type: USERS_MESSAGE, isDelta: true, removed: ['x'] });
    const stream = `retry: 3000\n\n: ping\r\nevent: m\r\nid: 4\rdata: ${a.slice(0, 10)}\r\ndata:${a.slice(10)}\n\ndata\n\n:c\n\ndata: ${a}\r\r`;
    const joined = `${a.slice(0, 10)}\n${a.slice(10)}`;
    for (let cut = 0; cut <= stream.length; cut++) {
      const { messages, retries } = read(stream, cut);
      expect(retries, `cut ${cut}`).to.deep.equal([3000]);
      expect(messages, `cut ${cut}`).to.deep.equal([parseMessage(joined), parseMessage(a)]);
    }
  });
});

describe('StreamedMessage: a userStatusMessage', () => {
  const statuses = Array.from({ length: 200 }, (_, i) => ({
    userId: `agent${i}`,
    statusId: 'Available',
    loggedIn: true,
    onPhone: false,
    stations: [`70${i}`],
  }));
  const text = JSON.stringify({ __type: 'urn:inin.com:status:userStatusMessage', isDelta: false, userStatusList: statuses });

  it('is read status by status, bounded per status: a full replace many times icws.maxMessageBytes gives every status', () => {
    expect(text.length).to.be.greaterThan(8 * 1024);
    for (const pieces of [[], [7, 300, 5000], [1, 1, 1, 64]]) {
      const outcome = streamed(text, pieces, 1024);
      expect(outcome.kind, JSON.stringify(pieces)).to.equal('message');
      expect(outcome).to.deep.equal(parseMessage(text));
    }
  });

  it('refuses a status past the bound, and a malformed status as the whole message parsed would', () => {
    const big = JSON.stringify({
      __type: 'urn:inin.com:status:userStatusMessage',
      isDelta: true,
      userStatusList: [{ userId: 'a', statusId: 'x'.repeat(2000) }],
    });
    expect(() => streamed(big, [], 1024)).to.throw(MessageTooLargeError);
    const bad = JSON.stringify({
      __type: 'urn:inin.com:status:userStatusMessage',
      isDelta: true,
      userStatusList: [{ userId: 'a', statusId: 'Available', loggedIn: 'yes' }],
    });
    const outcome = streamed(bad, [3]);
    expect(outcome).to.include({ kind: 'malformed', statuses: true });
    expect((outcome as { reason: string }).reason).to.include('loggedIn is "yes"');
  });
});
