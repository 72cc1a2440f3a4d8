/** The page's lag chart: the status JSON's histograms, differenced between two polls, give the lag of the changes in between. */
import { expect } from 'chai';
import { lagHistograms } from '../../src/http/status-json.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { windowLag } from '../../src/page/lag-chart.js';

describe('lag between two status polls', () => {
  it('reflects only the changes since the previous poll, not everything since start', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const redis = metrics.lag.labels({ stage: 'redis' });
    for (let i = 0; i < 1000; i++) redis.observe(0.002); // a calm start: 2 ms
    const first = (await lagHistograms(metrics)).redis!;
    for (let i = 0; i < 50; i++) redis.observe(0.4); // then a spike: 400 ms
    const second = JSON.parse(JSON.stringify(await lagHistograms(metrics))).redis; // as the page receives it
    const spike = windowLag(first, second);
    expect(spike.count).to.equal(50);
    expect(spike.mean).to.be.closeTo(0.4, 1e-9);
    expect(spike.p99).to.be.greaterThan(0.25).and.at.most(0.5);
    // since start the p99 would still say "2 ms-ish"; between two quiet polls there is nothing to say
    expect(windowLag(second, second)).to.deep.equal({ count: 0 });
    expect(windowLag(undefined, first).p99).to.be.at.most(0.005);
  });
});
