/**
 * The server builds its frames from the protocol's types: a frame whose shape drifts from them does not compile.
 * The `@ts-expect-error` lines below are the test that matters, checked by `npx tsc --noEmit -p .`: if the types
 * stopped catching a drifted frame, the directive itself would be an error ("Unused '@ts-expect-error'").
 */
import { expect } from 'chai';
import { readFrames } from '../helpers/ws-frames.js';
import { frameOf } from '../../src/fanout/frames.js';
import { clientFrameText, isClientFrame, parseServerFrame, serverFrameText, type ServerFrame } from '../../src/protocol/frames.js';

describe('protocol frames', () => {
  it('do not compile with a shape that drifted from the protocol', () => {
    const data = { statusText: 'At lunch' };
    const drifted = [
      // @ts-expect-error an upsert whose properties are under another name than `data`
      frameOf({ type: 'upsert', seq: 1, id: 'jdoe', props: data }),
      // @ts-expect-error a remove without its seq
      frameOf({ type: 'remove', id: 'jdoe' }),
      // @ts-expect-error a reset with a reason the protocol does not have
      frameOf({ type: 'reset', reason: 'restarted', epoch: 'e1', seq: 1 }),
      // @ts-expect-error a hello without the server's version
      frameOf({ type: 'hello', epoch: 'e1', seq: 1 }),
      // @ts-expect-error a snapshot whose seq is a string
      serverFrameText({ type: 'snapshot', seq: '1', users: [], last: true }),
      // @ts-expect-error a frame type the protocol does not have
      serverFrameText({ type: 'subscribed', ids: ['jdoe'] }),
      // @ts-expect-error a client frame the server does not understand
      clientFrameText({ type: 'subscribe' }),
    ];
    expect(drifted).to.have.length(7);
  });

  it('reach the client as the types say, every one of them', () => {
    const frames: ServerFrame[] = [
      { type: 'hello', epoch: 'e1', seq: 3, version: '0.1.0', worker: '1' },
      { type: 'reset', reason: 'trimmed', epoch: 'e1', seq: 3 },
      { type: 'snapshot', seq: 3, users: [{ id: 'jdoe', extension: '2001' }], last: true },
      { type: 'upsert', seq: 4, id: 'jdoe', data: { statusText: 'At lunch', extension: null } },
      { type: 'remove', seq: 5, id: 'jdoe' },
      { type: 'pong' },
      { type: 'error', error: 'not JSON' },
    ];
    const read = readFrames(Buffer.concat(frames.map(frameOf))).map(parseServerFrame);
    expect(read).to.deep.equal(frames);
    expect(() => parseServerFrame('{"seq":1}')).to.throw(/without a type/);
  });

  it('the client frame is the one the server understands', () => {
    expect(isClientFrame(JSON.parse(clientFrameText({ type: 'ping' })))).to.equal(true);
    expect(isClientFrame({ type: 'subscribe' })).to.equal(false);
    expect(isClientFrame(null)).to.equal(false);
  });
});
