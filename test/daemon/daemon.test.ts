/**
 * The daemon in-process with stand-in stages: the shutdown time limit (exit 1 naming what hung), the HTTP
 * endpoints (404 JSON, readiness while draining), and a taken HTTP port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { DEFAULTS, type Config } from '../../src/config/defaults.js';
import { Daemon } from '../../src/daemon/daemon.js';
import type { FanoutStage, StageFactory } from '../../src/stages/contracts.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { buildStages } from '../../src/daemon/build-stages.js';
import { waitFor } from '../helpers/net.js';
import { SHARED_REDIS_URL, startPrivateRedis, uniquePrefix } from '../helpers/redis.js';

function config(overrides: { shutdownMs?: number; port?: number } = {}): Config {
  const c = structuredClone(DEFAULTS);
  c.role = 'fanout';
  c.redis.url = SHARED_REDIS_URL;
  c.redis.keyPrefix = uniquePrefix('daemon');
  c.http.port = overrides.port ?? 0;
  c.shutdown.timeoutMs = overrides.shutdownMs ?? 10000;
  return c;
}

function fanoutStub(close: () => Promise<void> = async () => {}): FanoutStage {
  return { attach: () => {}, start: () => {}, notifyCommitted: () => {}, clientCount: 0, close };
}

function daemonWith(c: Config, stages: StageFactory) {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const daemon = new Daemon(c, { logger: createLogger({ stream: out }), buildStages: stages, metrics: new Metrics({ defaultMetrics: false }) });
  return { daemon, log: () => text };
}

describe('daemon (in-process, stand-in stages)', function () {
  this.timeout(20000);

  it('serves /healthz, /readyz, /metrics and 404 JSON; /readyz turns 503 "shutting down" while draining', async () => {
    let release!: () => void;
    const closing = new Promise<void>((r) => (release = r));
    const { daemon } = daemonWith(config(), async () => ({ fanout: fanoutStub(() => closing) }));
    await daemon.start();
    expect(daemon.state.type).to.equal('running');
    const base = `http://127.0.0.1:${daemon.httpPort}`;
    expect(await (await fetch(`${base}/healthz`)).json()).to.deep.equal({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).to.equal(200);
    expect((await fetch(`${base}/metrics`)).headers.get('content-type')).to.match(/^text\/plain/);
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).to.equal(404);
    expect(await missing.json()).to.include({ error: 'not found', path: '/nope' });

    const stopped = daemon.stop('test');
    const draining = await fetch(`${base}/readyz`);
    expect(draining.status).to.equal(503);
    expect(await draining.json())
      .to.include({ status: 'not ready' })
      .and.have.property('reason')
      .that.includes('shutting down');
    release();
    expect(await stopped).to.equal(0);
    expect(daemon.state).to.deep.equal({ type: 'stopped', exitCode: 0 });
  });

  it('exits 1 naming the step that hung when the shutdown passes shutdown.timeoutMs', async () => {
    const { daemon, log } = daemonWith(config({ shutdownMs: 300 }), async () => ({ fanout: fanoutStub(() => new Promise(() => {})) }));
    await daemon.start();
    expect(await daemon.stop('test')).to.equal(1);
    expect(daemon.state.type).to.equal('failed');
    expect(log()).to.include('shutdown did not finish within 300 ms').and.to.include('closing WebSocket clients');
  });

  it('waits for a Redis that is not up yet (/readyz says so) instead of exiting, then serves', async () => {
    const redis = await startPrivateRedis();
    await redis.stop();
    const c = config();
    c.redis.url = redis.url;
    c.redis.backoff = { initialMs: 50, maxMs: 200, multiplier: 2, jitter: 0 };
    const { daemon, log } = daemonWith(c, buildStages);
    try {
      const started = daemon.start();
      await waitFor('the HTTP server', () => daemon.httpPort);
      const base = `http://127.0.0.1:${daemon.httpPort}`;
      const waiting = await waitFor('a 503 saying it waits for Redis', async () => {
        const r = await fetch(`${base}/readyz`);
        const body = (await r.json()) as { reason: string; missing: string[] };
        return r.status === 503 && body.reason.includes('(waiting for Redis)') ? body : undefined;
      });
      expect(waiting.missing).to.include('Redis reachable');
      await redis.start();
      await started;
      expect(daemon.state.type).to.equal('running');
      await waitFor('/readyz 200', async () => (await fetch(`${base}/readyz`)).status === 200);
      expect(log()).to.include('waiting for Redis at');
      expect(await daemon.stop('test')).to.equal(0);
    } finally {
      await daemon.stop('test');
      await redis.destroy();
    }
  });

  it('fails with exit 1 and says which port is taken', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    try {
      const { daemon, log } = daemonWith(config({ port }), async () => ({ fanout: fanoutStub() }));
      await daemon.start();
      expect(await daemon.exited).to.equal(1);
      expect(log()).to.include(`port ${port} on 127.0.0.1 is already in use`).and.to.include('http.port');
    } finally {
      taken.close();
    }
  });
});
