/**
 * Hostile input from both sides: bad ICWS messages (skipped, counted, and a resync so that nothing they may have
 * carried is lost) and bad WebSocket clients (refused or closed). The daemon never stops, and converges after each.
 */
import { expect } from 'chai';
import WebSocket from 'ws';
import { CLOSE } from '../../src/fanout/close-codes.js';
import { USERS_MESSAGE } from '../../src/icws/messages.js';
import { metricValue } from '../helpers/processes.js';
import { SECRETS, Stack, leakedSecrets } from './harness.js';

const MAX_MESSAGE_BYTES = 1024 * 1024;

describe('chaos: hostile input', function () {
  this.timeout(120000);
  let stack: Stack;
  let someone: string;

  before(async () => {
    stack = await Stack.start({ users: 200, env: { ICWATCH_ICWS_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) } });
    await stack.converged();
    someone = stack.sim.control.users()[0]!.configurationId.id;
  });
  after(async () => stack?.close());

  const stillRunning = () => expect(stack.icwatch.child.exitCode, 'icwatch exited').to.equal(null);

  it('malformed JSON is skipped and the stream goes on', async () => {
    stack.sim.control.injectRaw(`{"__type":"${USERS_MESSAGE}","isDelta":tru`);
    stack.sim.control.churn(20);
    await stack.converged();
    stillRunning();
    expect(stack.output()).to.match(/malformed|not JSON/i);
  });

  it('wrong types (removed as objects, extension as a number) are rejected, and the mirror never holds them', async () => {
    stack.sim.control.injectRaw(JSON.stringify({ __type: USERS_MESSAGE, isDelta: true, subscriptionId: 'icwatch', removed: [{ id: someone }] }));
    stack.sim.control.injectRaw(
      JSON.stringify({ __type: USERS_MESSAGE, isDelta: true, subscriptionId: 'icwatch', changed: [{ configurationId: { id: someone }, extension: 99999 }] }),
    );
    stack.sim.control.churn(20);
    await stack.converged();
    stillRunning();
    expect(await stack.reader.hget(stack.keys.user(someone), 'extension')).to.match(/^"/);
  });

  it('a gigantic message is rejected with a clear log, memory stays bounded, and a resync converges', async () => {
    const huge = JSON.stringify({
      __type: USERS_MESSAGE,
      isDelta: true,
      subscriptionId: 'icwatch',
      changed: [{ configurationId: { id: someone }, notes: 'x'.repeat(3 * MAX_MESSAGE_BYTES) }],
    });
    stack.sim.control.injectRaw(huge);
    stack.sim.control.churn(20);
    await stack.converged();
    stillRunning();
    expect(stack.output()).to.match(/maxMessageBytes/);
    // The primary parses ICWS messages; each process's own metrics are labelled worker (README, "Process model").
    const rss = metricValue((await stack.icwatch.get('/metrics')).text, 'process_resident_memory_bytes{worker="primary"}');
    expect(rss)
      .to.be.greaterThan(0)
      .and.lessThan(512 * 1024 * 1024);
  });

  it('an unknown __type is ignored and counted', async () => {
    stack.sim.control.injectRaw(JSON.stringify({ __type: 'urn:inin.com:queues:queueContentsMessage', isDelta: true }));
    stack.sim.control.churn(10);
    await stack.converged();
    expect(metricValue((await stack.icwatch.get('/metrics')).text, 'icwatch_messages_total{type="unknown",delta=""}')).to.be.greaterThan(0);
  });

  it('a usersMessage for another subscription is ignored', async () => {
    stack.sim.control.injectRaw(
      JSON.stringify({
        __type: USERS_MESSAGE,
        isDelta: true,
        subscriptionId: 'someone-else',
        added: [{ configurationId: { id: 'intruder' }, extension: '666' }],
      }),
    );
    stack.sim.control.churn(10);
    await stack.converged();
    expect(await stack.reader.sismember(stack.keys.ids, 'intruder')).to.equal(0);
  });

  describe('WebSocket clients', () => {
    const upgrade = (query: string, headers: Record<string, string> = { authorization: `Bearer ${SECRETS.token}` }) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${stack.icwatch.port}/v1/users${query}`, { headers });
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        ws.on('open', () => {
          ws.terminate();
          resolve({ status: 101, body: '' });
        });
        ws.on('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
      });

    it('invalid queries are refused with 400 and a JSON reason naming the parameter', async () => {
      for (const q of ['?since=-4', '?since=abc', '?ids=', '?props=not%20a%20prop', '?bogus=1']) {
        const { status, body } = await upgrade(q);
        expect(status, q).to.equal(400);
        expect(JSON.parse(body), q).to.have.property('error');
      }
    });

    it('unauthenticated upgrades are refused with 401', async () => {
      expect((await upgrade('', {})).status).to.equal(401);
      expect((await upgrade('', { authorization: 'Bearer wrong-token' })).status).to.equal(401);
      expect((await upgrade(`?access_token=${SECRETS.token}`, {})).status).to.equal(101);
    });

    it('oversized and unintelligible client frames get error frames, then the connection is closed', async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${stack.icwatch.port}/v1/users`, { headers: { authorization: `Bearer ${SECRETS.token}` } });
      const errors: string[] = [];
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      ws.on('message', (d) => {
        const frame = JSON.parse((d as Buffer).toString());
        if (frame.type === 'error') errors.push(frame.error);
      });
      await new Promise((r) => ws.once('open', r));
      ws.send('y'.repeat(8 * 1024));
      for (let i = 0; i < 20 && ws.readyState === WebSocket.OPEN; i++) ws.send('{"type":"nonsense"}');
      const code = await closed;
      expect(errors.length).to.be.greaterThan(0);
      expect([CLOSE.policyViolation.code, CLOSE.messageTooBig.code]).to.include(code);
      stillRunning();
    });
  });

  it('no secret or session credential reached any output', () => {
    expect(leakedSecrets(stack.output(), stack.sim.control.issuedCredentials())).to.deep.equal([]);
  });
});
