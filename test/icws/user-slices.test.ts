/**
 * The one-pass read of a full replace's users (src/icws/user-slices.ts) against what parsing gives: whatever text a
 * server sends, a user read in one pass must be exactly the user that JSON.parse, the message's checks and the
 * property encoding make of it, and a text that is not a good user must be refused with the same words.
 */
import { expect } from 'chai';
import { checkUser } from '../../src/icws/check-user.js';
import { listElementProblem } from '../../src/icws/parse.js';
import { readAddedUser } from '../../src/icws/read-users.js';
import { userSlices } from '../../src/icws/user-slices.js';
import { generateUsers } from '../../src/simulator/users.js';
import { Random } from '../../src/simulator/random.js';

/** What parsing the text makes of it: the problem that refuses the message, a refused user, or the stored user. */
function parsed(text: string): string {
  let element: unknown;
  try {
    element = JSON.parse(text);
  } catch (err) {
    return `problem: added[0] is not JSON (${(err as Error).message})`;
  }
  const problem = listElementProblem('added', 0, element);
  if (problem) return `problem: ${problem}`;
  const user = checkUser(element, { keepNulls: false });
  if (user.kind === 'rejected') return `rejected ${user.id}: ${user.problem}`;
  return `user ${JSON.stringify(user.id)}: ${JSON.stringify([...user.props])}`;
}

/** What readAddedUser makes of it, in the same words. */
function read(text: string): string {
  const outcome = readAddedUser(text, 0, 1);
  if (outcome.problem !== undefined) return `problem: ${outcome.problem}`;
  const user = outcome.user;
  if (user.kind === 'rejected') return `rejected ${user.id}: ${user.problem}`;
  if (user.kind !== 'checked') throw new Error(`read as ${user.kind}`);
  return `user ${JSON.stringify(user.id)}: ${JSON.stringify([...user.props])}`;
}

/** Characters that matter to JSON and to JSON.stringify's own way of writing it. */
const PIECES = [
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '0',
  '1',
  '-',
  '.',
  'e',
  '+',
  ' ',
  '\n',
  '\t',
  'n',
  'u',
  'l',
  't',
  '\u0000',
  '\ud83d',
  'é',
  '/',
  '\\u0041',
  '\\/',
  'null',
  'true',
  '"id"',
  '1.50',
  '-0',
  '1e2',
  '"2"',
];

function mutate(text: string, next: () => number): string {
  const at = Math.floor(next() * text.length);
  const piece = PIECES[Math.floor(next() * PIECES.length)]!;
  switch (Math.floor(next() * 4)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + piece + text.slice(at);
    case 2:
      return text.slice(0, at) + piece + text.slice(at + piece.length);
    default: {
      // A piece of the text repeated elsewhere: keys twice, values where keys go.
      const from = Math.floor(next() * text.length);
      return text.slice(0, at) + text.slice(from, from + 1 + Math.floor(next() * 40)) + text.slice(at);
    }
  }
}

describe('userSlices: a full replace user read in one pass is the user parsing makes of it', () => {
  const users = generateUsers(200, 11).map((u) => JSON.stringify(u));

  it('reads every generated user in one pass, each property its stored text, nulls left out', () => {
    for (const text of users) {
      const slices = userSlices(text);
      expect(slices, text.slice(0, 60)).to.not.equal(undefined);
      expect(read(text)).to.equal(parsed(text));
    }
  });

  it('gives the same user, or refuses it with the same words, for thousands of texts a server might send', () => {
    const rng = new Random(26);
    const next = () => rng.next();
    let sliced = 0;
    let good = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = users[i % users.length]!;
      for (let edits = 1 + Math.floor(next() * 3); edits > 0; edits--) text = mutate(text, next);
      expect(read(text), text).to.equal(parsed(text));
      if (userSlices(text)) sliced++;
      if (parsed(text).startsWith('user ')) good++;
    }
    // The mutations reach both ways of reading: many texts stay users as JSON.stringify writes them, many do not.
    expect(sliced).to.be.greaterThan(3_000);
    expect(good - sliced).to.be.greaterThan(500);
  });

  it('refuses in one pass what JSON.stringify does not write, and parsing reads it as the same user', () => {
    const user = (rest: string) => `{"configurationId":{"id":"a"}${rest}}`;
    for (const text of [
      user(',"cost":1.50'),
      user(',"cost":-0'),
      user(',"cost":1e2'),
      user(', "cost":1'),
      user(',"notes":"a\\/b"'),
      user(',"notes":"\\u0041"'),
      user(',"notes":"😀"'),
      user(',"skills":{"2":1,"a":2}'),
      user(',"skills":{"a":1,"a":2}'),
      user(',"cost":1,"cost":2'),
      '{"configurationId":{"id":"a","id":"b"}}',
      `{"configurationId":{"id":"a"},"x":${'['.repeat(100)}${']'.repeat(100)}}`,
    ]) {
      expect(userSlices(text), text).to.equal(undefined);
      expect(read(text), text).to.equal(parsed(text));
      expect(read(text), text).to.match(/^user /);
    }
  });

  it('refuses a text that is not a good user with the words the message check gives', () => {
    for (const [text, words] of [
      ['{"configurationId":{"id":""}}', 'rejected ?: configurationId.id missing or not a non-empty string (got "")'],
      ['{"configurationId":null}', 'problem: added[0] is not a user with configurationId.id a string'],
      ['{"configurationId":{"id":1}}', 'problem: added[0] is not a user with configurationId.id a string'],
      ['{"extension":"1"}', 'problem: added[0] is not a user with configurationId.id a string'],
      ['{"configurationId":{"id":"a"},"extension":100}', 'problem: added[0] (a): extension is a number (100), expected a string'],
      ['{"configurationId":{"id":"a"},"workgroups":{}}', 'problem: added[0] (a): workgroups is an object ({}), expected an array'],
      ['{"configurationId":{"id":"a"},"cost":1}x', 'problem: added[0] is not JSON'],
      ['{"configurationId":{"id":"a"},"cost":01}', 'problem: added[0] is not JSON'],
      ['{"configurationId":{"id":"a"},"notes":"a\u0001b"}', 'problem: added[0] is not JSON'],
    ]) {
      expect(userSlices(text!), text).to.equal(undefined);
      expect(read(text!), text).to.equal(parsed(text!));
      expect(read(text!), text).to.contain(words);
    }
  });

  it('takes a property named as an Object method (constructor, toString, __proto__) as it comes', () => {
    const text = '{"configurationId":{"id":"a"},"constructor":"x","toString":1,"__proto__":{"y":true}}';
    expect(userSlices(text)?.names).to.deep.equal(['configurationId', 'constructor', 'toString', '__proto__']);
    expect(read(text)).to.equal(parsed(text));
    expect(read(text)).to.contain('["__proto__","{\\"y\\":true}"]');
  });
});
