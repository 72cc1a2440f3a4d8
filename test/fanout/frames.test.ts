/** Frames built once for every client: valid WebSocket framing at every length, filters applied per view. */
import { expect } from 'chai';
import { readFrames } from '../helpers/ws-frames.js';
import fc from 'fast-check';
import { ChangePage, textFrame } from '../../src/fanout/frames.js';

describe('fanout frames', () => {
  it('frames text of any length (7-bit, 16-bit and 64-bit lengths) as ws reads it', () => {
    for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
      const text = 'é'.repeat(Math.floor(n / 2)) + 'a'.repeat(n % 2);
      expect(readFrames(textFrame(text))).to.deep.equal([text]);
    }
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 300 }), { maxLength: 5 }), (texts) => {
        expect(readFrames(Buffer.concat(texts.map(textFrame)))).to.deep.equal(texts);
      }),
    );
  });

  it('gives each client only its users and properties, sharing one buffer between unfiltered clients', () => {
    const page = new ChangePage([
      { op: 'upsert', seq: 5, id: 'a', data: { extension: '1', statusText: 'x' }, at: 0 },
      { op: 'upsert', seq: 6, id: 'b', data: { statusText: 'y' }, at: 0 },
      { op: 'remove', seq: 7, id: 'a', at: 0 },
    ]);
    const all = page.bytesFor(null, null, 4);
    expect(all.count).to.equal(3);
    expect(page.bytesFor(null, null, 4).buffer).to.equal(all.buffer);
    expect(readFrames(page.bytesFor(new Set(['extension']), null, 4).buffer).map((t) => JSON.parse(t))).to.deep.equal([
      { type: 'upsert', seq: 5, id: 'a', data: { extension: '1' } },
      { type: 'remove', seq: 7, id: 'a' },
    ]);
    expect(readFrames(page.bytesFor(null, new Set(['b']), 4).buffer).map((t) => JSON.parse(t).seq)).to.deep.equal([6]);
    expect(readFrames(page.bytesFor(null, null, 5).buffer).map((t) => JSON.parse(t).seq)).to.deep.equal([6, 7]);
    expect(page.bytesFor(new Set(['skills']), new Set(['b']), 4).count).to.equal(0);
  });
});
