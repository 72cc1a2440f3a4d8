import { expect } from 'chai';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { call, connect } from './raw-client.js';

describe('simulator: the status catalogue', () => {
  let sim: Simulator;
  before(async () => (sim = await startSimulator({ users: 3 })));
  after(() => sim.close());

  it('answers GET status/status-messages in a session with entries shaped as real servers give them', async () => {
    const s = await connect(sim.url);
    const res = await call(s, 'GET', '/status/status-messages');
    expect(res.status).to.equal(200);
    const { statusMessageList } = (await res.json()) as { statusMessageList: Record<string, unknown>[] };
    expect(statusMessageList.map((m) => m.groupTag)).to.include.members(['AVAILABLE', 'BREAK', 'FOLLOWUP', 'TRAINING', 'UNAVAILABLE']);
    const available = statusMessageList.find((m) => m.statusId === 'Available')!;
    expect(available).to.include({ messageText: 'Available', groupTag: 'AVAILABLE', isAcdStatus: true, isSelectableStatus: true });
    expect(Object.keys(available)).to.include.members(['iconUri', 'canHaveDate', 'canHaveTime', 'isDoNotDisturbStatus', 'isAllowFollowUpStatus', 'systemId']);
  });

  it('refuses the catalogue without a session (401)', async () => {
    const res = await fetch(`${sim.url}/nosuchsession/status/status-messages`);
    expect(res.status).to.equal(401);
  });
});
