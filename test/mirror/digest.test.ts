/** The per-property digest the writer keeps instead of each value (src/util/digest.ts): equal texts, equal digests. */
import { expect } from 'chai';
import fc from 'fast-check';
import { digestOf } from '../../src/util/digest.js';

describe('digestOf', () => {
  it('gives equal texts equal digests, however they were built', () => {
    fc.assert(
      fc.property(fc.json(), (json) => digestOf(json) === digestOf(JSON.stringify(JSON.parse(json)))),
      { numRuns: 500 },
    );
    expect(digestOf(['"a', 'b"'].join(''))).to.equal(digestOf('"ab"'));
  });

  it('tells apart texts that differ in one character, in length or in a trailing zero byte', () => {
    const seen = new Map<number, string>();
    const texts = ['', 'a', 'a\u0000', 'a\u0000\u0000\u0000', '"ü"', '"u"', '"😀"', '"\\ud83d"', '[1,2]', '[1,3]', '[2,1]'];
    for (let i = 0; i < 2000; i++) texts.push(JSON.stringify({ id: `user${i}`, extension: String(1000 + i) }));
    // Longer than the scratch buffer (read unit by unit), and its own prefix.
    const long = JSON.stringify('x'.repeat(30_000));
    texts.push(long, long.slice(0, -1), long.slice(0, 21_000));
    for (const t of texts) {
      const d = digestOf(t);
      expect(seen.get(d), `${JSON.stringify(t.slice(0, 30))} vs ${JSON.stringify(seen.get(d)?.slice(0, 30))}`).to.equal(undefined);
      seen.set(d, t);
      expect(digestOf(t)).to.equal(d);
      expect(Number.isSafeInteger(d)).to.equal(true);
    }
  });
});
