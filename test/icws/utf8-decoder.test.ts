/** The stream decoder (src/icws/transport/utf8-decoder.ts) gives what a streaming TextDecoder gives, wherever cut. */
import { expect } from 'chai';
import { Utf8Decoder } from '../../src/icws/transport/utf8-decoder.js';
import { Random } from '../../src/simulator/random.js';

/** Mostly ASCII, as a directory is, with accented names, emoji, byte order marks and bytes that are not UTF-8. */
function bytes(next: () => number, length: number): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < length) {
    const r = next();
    let part: Buffer;
    if (r < 0.9) part = Buffer.from('{"id":"a","displayName":"Ann Lee"},'.slice(0, 1 + Math.floor(next() * 30)));
    else if (r < 0.95) part = Buffer.from(['é', 'ü', '–', '😀', '\ufeff', 'ß'][Math.floor(next() * 6)]!);
    else part = Buffer.from([[0xff], [0xc3], [0xe2, 0x80], [0xf0, 0x9f], [0x80], [0xed, 0xa0, 0x80]][Math.floor(next() * 6)]!);
    parts.push(part);
    size += part.length;
  }
  return Buffer.concat(parts);
}

describe('Utf8Decoder: a stream decoded chunk by chunk', () => {
  it('gives what a streaming TextDecoder gives, whatever the bytes and wherever the chunks end', () => {
    const rng = new Random(8);
    const next = () => rng.next();
    for (let round = 0; round < 300; round++) {
      const all = bytes(next, 1 + Math.floor(next() * 20_000));
      const expected = new TextDecoder();
      const decoder = new Utf8Decoder();
      let want = '';
      let got = '';
      for (let at = 0; at < all.length;) {
        const size = next() < 0.5 ? 1 + Math.floor(next() * 8) : 1 + Math.floor(next() * 9000);
        const chunk = all.subarray(at, at + size);
        want += expected.decode(chunk, { stream: true });
        got += decoder.decode(chunk);
        at += size;
      }
      expect(got, `round ${round}`).to.equal(want);
    }
  });

  it('drops a byte order mark at the start of the stream only, even cut in two', () => {
    const decoder = new Utf8Decoder();
    const bom = Buffer.from('\ufeff');
    expect(decoder.decode(bom.subarray(0, 1)) + decoder.decode(Buffer.concat([bom.subarray(1), Buffer.from('data: x\ufeff')]))).to.equal('data: x\ufeff');
    const later = new Utf8Decoder();
    expect(later.decode(Buffer.from('a'.repeat(5000))) + later.decode(Buffer.from('\ufeffb'))).to.equal(`${'a'.repeat(5000)}\ufeffb`);
  });
});
