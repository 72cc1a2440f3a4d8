/**
 * Presence on the live page (docs/presence.md) in headless Chromium, against a real icwatch and the simulator as
 * test/browser/page.test.ts runs them: each row shows its user's status in the catalogue's words (ids matched
 * without regard to case) coloured by group, with a marker when available; a status change made through the
 * simulator's control API (POST /_sim/statuses/{id}) shows within a second, and the workgroup panel's available
 * count moves with it; the panel holds what `GET /v1/workgroups` says and what the simulator's truth gives; the
 * workgroup filter narrows the rows; without the catalogue (`GET /v1/statuses` failing) a status shows its
 * statusId. Leaves a screenshot in test-artifacts/presence.png. Skipped, saying why, when /usr/bin/chromium is not
 * installed.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { availableGroupSet, isAvailable, statusKey } from '../../src/mirror/presence.js';
import { startSimulator, type Simulator, type StatusChange, type User } from '../../src/simulator/index.js';
import { STATUS_MESSAGES } from '../../src/simulator/status-messages.js';
import { waitFor } from '../helpers/net.js';
import { killAll, ROOT, startIcwatch, type IcwatchProcess } from '../helpers/processes.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { panel, presenceOf } from './presence-page.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

const ARGS = [...CHROMIUM_ARGS];
const TOKEN = 'presence-token-3c81d0';
const SCREENSHOT = join(ROOT, 'test-artifacts', 'presence.png');

type Counts = { id: string; agents: number; loggedIn: number; available: number; onPhone: number };

/** The counts a workgroup should show, from the simulator's truth and the rule of src/mirror/presence.ts (default groups). */
function expectedCounts(sim: Simulator): Counts[] {
  const groups = new Map(STATUS_MESSAGES.map((m) => [statusKey(m.statusId), m.groupTag]));
  const availableGroups = availableGroupSet(['AVAILABLE']);
  const statuses = new Map(sim.control.statuses().map((s) => [s.userId, s]));
  const counts = new Map<string, Counts>();
  for (const u of sim.control.users()) {
    const s = statuses.get(u.configurationId.id);
    for (const id of new Set(((u.workgroups ?? []) as { id: string }[]).map((w) => w.id))) {
      const c = counts.get(id) ?? { id, agents: 0, loggedIn: 0, available: 0, onPhone: 0 };
      c.agents++;
      if (s?.loggedIn === true) c.loggedIn++;
      if (isAvailable(s, groups, availableGroups)) c.available++;
      if (s?.onPhone === true) c.onPhone++;
      counts.set(id, c);
    }
  }
  return [...counts.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

describe('presence on the live page in headless Chromium', function () {
  this.timeout(60000);
  let sim: Simulator;
  let redis: Redis;
  let prefix: string;
  let icwatch: IcwatchProcess;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;
  /** A user listing a workgroup, and that workgroup. */
  let agent: User;
  let workgroup: string;

  const pageUrl = () => `${icwatch.base}/#access_token=${TOKEN}`;
  /** The simulator's control API over HTTP. */
  const setStatus = async (id: string, change: StatusChange) => {
    const res = await fetch(`${sim.url.replace(/\/icws$/, '')}/_sim/statuses/${encodeURIComponent(id)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(change),
    });
    expect(res.status, await res.clone().text()).to.equal(200);
  };
  const rowIds = (p: Page) => p.$$eval('#directory tbody tr:not([hidden])', (rows) => rows.map((r) => (r as HTMLElement).dataset.id!));
  /** The mirror stops moving (the simulator has no background churn). */
  const settled = async () => {
    let last = '';
    await waitFor(
      'the mirror to settle',
      async () => {
        const seq = (await redis.hget(`${prefix}:meta`, 'seq')) ?? '';
        const same = seq === last;
        last = seq;
        return same;
      },
      20000,
      300,
    );
  };

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`    (skipped: ${CHROMIUM} is not installed; apt-get install chromium, as .ci/run does)`);
      this.skip();
    }
    sim = await startSimulator({ users: 40, seed: 12 });
    agent = sim.control.users().find((u) => ((u.workgroups ?? []) as unknown[]).length > 0)!;
    workgroup = (agent.workgroups as { id: string }[])[0]!.id;
    redis = new Redis(SHARED_REDIS_URL);
    prefix = uniquePrefix('presence-page');
    icwatch = await startIcwatch({
      ICWATCH_ICWS_URL: sim.url,
      ICWATCH_ICWS_PASSWORD: 'icwatch',
      ICWATCH_REDIS_URL: SHARED_REDIS_URL,
      ICWATCH_REDIS_KEY_PREFIX: prefix,
      ICWATCH_WEBSOCKET_TOKENS: TOKEN,
    });
    await waitFor('icwatch ready', async () => (await icwatch.get('/readyz')).status === 200, 30000, 100);
    profile = mkdtempSync(join(tmpdir(), 'icwatch-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      viewport: { width: 1280, height: 1000 },
    });
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await icwatch?.stop('SIGTERM');
    killAll();
    await sim?.close();
    if (redis) {
      await dropPrefix(redis, prefix);
      await redis.quit();
    }
  });

  it("shows each user's status in the catalogue's words, coloured by group, and the workgroups as the server and the simulator count them", async () => {
    await page.goto(pageUrl());
    await page.waitForSelector('#connection[data-state="live"]', { timeout: 15000 });
    await waitFor('every user on the page', async () => (await rowIds(page)).length === sim.control.users().length, 10000);
    // The statuses reach the mirror after the users (docs/presence.md "From ICWS"): wait for the page to show them.
    const withStatus = sim.control.statuses().filter((s) => sim.control.user(s.userId));
    await waitFor('every status on the page', async () => (await page.$$('#directory tbody tr .presence')).length === withStatus.length, 15000, 100).catch(
      (err: Error) => {
        throw new Error(`${err.message} (the daemon's side of presence: the status field of snapshots, docs/presence.md)`);
      },
    );
    const catalogue = new Map(STATUS_MESSAGES.map((m) => [m.statusId.toLowerCase(), m]));
    for (const s of withStatus.slice(0, 10)) {
      const entry = catalogue.get(s.statusId.toLowerCase())!;
      expect(await presenceOf(page, s.userId), s.userId).to.deep.include({ text: entry.messageText, group: entry.groupTag.toLowerCase() });
    }

    await settled();
    const expected = expectedCounts(sim);
    await waitFor('the panel to hold the simulator’s counts', async () => JSON.stringify(await panel(page)) === JSON.stringify(expected), 5000).catch(
      async (err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(await panel(page))} vs ${JSON.stringify(expected)}`);
      },
    );
    const res = await fetch(`${icwatch.base}/v1/workgroups`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status, 'GET /v1/workgroups').to.equal(200);
    const served = ((await res.json()) as { workgroups: Counts[] }).workgroups.map(({ id, agents, loggedIn, available, onPhone }) => ({
      id,
      agents,
      loggedIn,
      available,
      onPhone,
    }));
    expect(served, 'the page counts as GET /v1/workgroups does').to.deep.equal(expected);
  });

  it('shows a status change made through the simulator within a second, and the available count moves with it', async () => {
    const id = agent.configurationId.id;
    // A break first (spelt in another case than the catalogue's: ids compare without regard to case).
    await setStatus(id, { statusId: 'AWAY FROM DESK', loggedIn: true, onPhone: false });
    await page.waitForFunction(
      (rowId) => document.querySelector(`#directory tbody tr[data-id="${CSS.escape(rowId)}"] .presence`)?.textContent === 'Away From Desk',
      id,
      { timeout: 5000 },
    );
    const onBreak = await presenceOf(page, id);
    expect(onBreak).to.deep.include({ text: 'Away From Desk', group: 'break', available: false });
    await settled();
    const before = (await panel(page)).find((w) => w.id === workgroup)!;
    expect(before).to.deep.equal(expectedCounts(sim).find((w) => w.id === workgroup));

    const at = Date.now();
    await setStatus(id, { statusId: 'Available' });
    await page.waitForFunction(
      ({ rowId, wg, n }) => {
        const row = document.querySelector(`#directory tbody tr[data-id="${CSS.escape(rowId)}"]`);
        const count = document.querySelector(`#workgroups tbody tr[data-id="${CSS.escape(wg)}"] td[data-count="available"]`);
        return row?.querySelector('.presence')?.textContent === 'Available' && !!row.querySelector('.presence-available') && count?.textContent === String(n);
      },
      { rowId: id, wg: workgroup, n: before.available + 1 },
      { timeout: 1000 },
    );
    const took = Date.now() - at;
    const after = await presenceOf(page, id);
    expect(after).to.deep.include({ text: 'Available', group: 'available', available: true });
    expect(after.colour, 'the colour of its group, not that of a break').to.be.a('string').and.not.equal(onBreak.colour);
    expect(await page.$eval(`#directory tbody tr[data-id="${id}"]`, (r) => r.classList.contains('changed'))).to.equal(true);
    expect(await page.textContent('#changes')).to.match(new RegExp(`\\d+ status ${id} `));
    console.log(`    on the page ${took} ms after the control API's answer`);

    // On the phone: still in Available, but not available any more.
    await setStatus(id, { onPhone: true });
    await page.waitForFunction(
      ({ rowId, wg, n }) =>
        !document.querySelector(`#directory tbody tr[data-id="${CSS.escape(rowId)}"] .presence-available`) &&
        document.querySelector(`#workgroups tbody tr[data-id="${CSS.escape(wg)}"] td[data-count="available"]`)?.textContent === String(n),
      { rowId: id, wg: workgroup, n: before.available },
      { timeout: 1000 },
    );
  });

  it('narrows the rows to one workgroup with the labelled workgroup filter', async () => {
    expect(await page.$eval('#workgroup', (s) => (s as HTMLSelectElement).labels?.[0]?.textContent)).to.equal('Workgroup');
    await page.selectOption('#workgroup', workgroup);
    const members = sim.control
      .users()
      .filter((u) => ((u.workgroups ?? []) as { id: string }[]).some((w) => w.id === workgroup))
      .map((u) => u.configurationId.id)
      .sort();
    await waitFor('only the workgroup’s rows', async () => JSON.stringify((await rowIds(page)).sort()) === JSON.stringify(members), 2000);
    expect(await page.textContent('#shown')).to.equal(`${members.length} of ${sim.control.users().length} users in ${workgroup}`);
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: false });
    console.log(`    screenshot: ${SCREENSHOT}`);
    await page.selectOption('#workgroup', '');
    await waitFor('every row again', async () => (await rowIds(page)).length === sim.control.users().length, 2000);
  });

  it('without the catalogue (GET /v1/statuses failing) shows the statusId, uncoloured', async () => {
    const id = sim.control.users().find((u) => u.configurationId.id !== agent.configurationId.id)!.configurationId.id;
    await setStatus(id, { statusId: 'Away from desk', loggedIn: true, onPhone: false });
    const tab = await browser.newPage();
    await tab.route('**/v1/statuses', (route) => route.fulfill({ status: 503, body: '{"error":"not now"}', contentType: 'application/json' }));
    await tab.goto(pageUrl());
    await tab.waitForSelector('#connection[data-state="live"]', { timeout: 15000 });
    await tab.waitForFunction((rowId) => !!document.querySelector(`#directory tbody tr[data-id="${CSS.escape(rowId)}"] .presence`), id, { timeout: 5000 });
    expect(await presenceOf(tab, id)).to.deep.include({ text: 'Away from desk', group: 'other' });
    await waitFor('with the catalogue: its words', async () => (await presenceOf(page, id)).text === 'Away From Desk', 2000);
    await tab.close();
  });
});
