/**
 * The live page's presence in headless Chromium against a stand-in icwatch that speaks docs/presence.md
 * (test/client/protocol-server.ts: snapshots with statuses, status frames, resets; `GET /v1/statuses`), serving the
 * page's real HTML, style and script (src/http/live-page.ts, the bundle of src/page) under icwatch's
 * Content-Security-Policy. What the page does with presence, apart from the daemon: statuses in the catalogue's
 * words (ids matched without regard to case) coloured by group, the available marker, a status frame on the row and
 * in the workgroup panel within a second, a status that goes away and a removed user, the workgroup filter, a resume
 * that keeps statuses and a reset that leaves only the fresh snapshot's, and the statusId shown when the catalogue
 * cannot be read. Leaves a screenshot in test-artifacts/presence-contract.png. test/browser/presence.test.ts runs the same page against the real daemon. Skipped, saying why,
 * when /usr/bin/chromium is not installed.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { bundlePage } from '../../src/build/page-bundle.js';
import { PAGE_STYLE, renderLivePage } from '../../src/http/live-page.js';
import type { StatusView } from '../../src/http/types.js';
import type { UserRecord } from '../../src/protocol/frames.js';
import { STATUS_MESSAGES } from '../../src/simulator/status-messages.js';
import { ProtocolServer } from '../client/protocol-server.js';
import { waitFor } from '../helpers/net.js';
import { ROOT } from '../helpers/processes.js';
import { panel, presenceOf } from './presence-page.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

const SCREENSHOT = join(ROOT, 'test-artifacts', 'presence-contract.png');
const ARGS = [...CHROMIUM_ARGS];

const wg = (...ids: string[]) => ids.map((id) => ({ id, displayName: id }));
const user = (id: string, name: string, workgroups: string[], status?: Record<string, unknown>): UserRecord => ({
  id,
  configurationId: { id, displayName: name, uri: `/configuration/users/${id}` },
  extension: String(2000 + id.charCodeAt(0)),
  workgroups: wg(...workgroups),
  ...(status ? { status } : {}),
});
const on = (statusId: string, available = false, more: Record<string, unknown> = {}) => ({ statusId, loggedIn: true, onPhone: false, available, ...more });

const USERS: UserRecord[] = [
  user('ava', 'Ava Available', ['Support', 'Sales'], on('Available', true)),
  user('bob', 'Bob Break', ['Support'], on('At Lunch')),
  user('fay', 'Fay Followup', ['Sales'], on('Follow Up')),
  user('tom', 'Tom Training', ['Support'], on('At a Training Session')),
  user('una', 'Una Unavailable', ['Sales'], on('Do Not Disturb')),
  user('oz', 'Oz Other', [], on('Custom thing')),
  user('gus', 'Gus Gone', ['Support'], { statusId: 'gone home', loggedIn: false, onPhone: false, available: false }),
  user('nia', 'Nia Nostatus', ['Support']),
];

describe('presence on the live page, against a stand-in speaking docs/presence.md', function () {
  this.timeout(60000);
  let server: ProtocolServer;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;
  let catalogueFails = false;
  const catalogueRequests: string[] = [];
  const violations: string[] = [];

  const rowIds = (p: Page) => p.$$eval('#directory tbody tr:not([hidden])', (rows) => rows.map((r) => (r as HTMLElement).dataset.id!).sort());
  const open = async (p: Page) => {
    await p.goto(`${server.base}/#access_token=stand-in`);
    await p.waitForSelector('#connection[data-state="live"]', { timeout: 15000 });
    await waitFor('every user on the page', async () => (await rowIds(p)).length === server.users.size, 5000);
  };

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`    (skipped: ${CHROMIUM} is not installed; apt-get install chromium, as .ci/run does)`);
      this.skip();
    }
    const script = (await bundlePage(ROOT)).script;
    server = await ProtocolServer.start(structuredClone(USERS));
    const view = { version: 'stand-in', role: 'all', daemon: 'running', session: 'up', redis: 'up', lag: {}, recentChanges: [] } as StatusView;
    const csp = () =>
      `default-src 'self'; connect-src 'self' ${server.base.replace('http:', 'ws:')}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'`;
    server
      .route('/', (_req, res) =>
        res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': csp() }).end(renderLivePage(view, '/assets/page.js', '/assets/page.css')),
      )
      .route('/assets/page.js', (_req, res) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(script))
      .route('/assets/page.css', (_req, res) => res.writeHead(200, { 'content-type': 'text/css' }).end(PAGE_STYLE))
      .route('/v1/status', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ seq: server.seq })))
      .route('/v1/statuses', (req, res) => {
        catalogueRequests.push(req.headers.authorization ?? '');
        if (catalogueFails) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"not now"}');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ statuses: STATUS_MESSAGES }));
      });
    profile = mkdtempSync(join(tmpdir(), 'icwatch-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      viewport: { width: 1280, height: 1000 },
    });
    page = await browser.newPage();
    page.on('console', (m) => /Content.Security.Policy|Refused to/i.test(m.text()) && violations.push(m.text()));
  });
  after(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await server?.close();
  });

  it("shows each status in the catalogue's words, a colour per group, the available marker, and the workgroups' counts", async () => {
    await open(page);
    await waitFor('the catalogue applied', async () => (await presenceOf(page, 'tom')).text === 'At a Training Session', 5000);
    expect(catalogueRequests, 'the catalogue asked with the token').to.deep.equal(['Bearer stand-in']);
    const shown = Object.fromEntries(await Promise.all(USERS.map(async (u) => [u.id, await presenceOf(page, u.id)] as const)));
    expect(shown.ava).to.deep.include({ text: 'Available', group: 'available', available: true });
    expect(shown.bob).to.deep.include({ text: 'At Lunch', group: 'break', available: false });
    expect(shown.fay).to.deep.include({ text: 'Follow Up', group: 'followup', available: false });
    expect(shown.tom).to.deep.include({ text: 'At a Training Session', group: 'training', available: false });
    expect(shown.una).to.deep.include({ text: 'Do Not Disturb', group: 'unavailable', available: false });
    expect(shown.oz, 'a status the catalogue does not list: its id, neutral').to.deep.include({ text: 'Custom thing', group: 'other' });
    expect(shown.gus, 'ids matched without regard to case').to.deep.include({ text: 'Gone Home', group: 'unavailable' });
    expect(shown.nia).to.deep.include({ text: null, available: false });
    const colours = ['ava', 'bob', 'fay', 'tom', 'una', 'oz'].map((id) => shown[id]!.colour);
    expect(new Set(colours).size, `a colour per group: ${colours.join(' ')}`).to.equal(6);
    expect(await page.getAttribute('th[data-column="presence"]', 'scope')).to.equal('col');

    await waitFor('the panel drawn', async () => (await panel(page)).length === 2, 2000);
    expect(await panel(page)).to.deep.equal([
      { id: 'Sales', agents: 3, loggedIn: 3, available: 1, onPhone: 0 },
      { id: 'Support', agents: 5, loggedIn: 3, available: 1, onPhone: 0 },
    ]);
    expect(violations).to.deep.equal([]);
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`    screenshot: ${SCREENSHOT}`);
  });

  it('shows a status frame on the row and in the workgroup panel within a second; a status that goes away and a removed user too', async () => {
    const at = Date.now();
    server.status('bob', { statusId: 'Available', available: true });
    await page.waitForFunction(
      () =>
        document.querySelector('#directory tbody tr[data-id="bob"] .presence')?.textContent === 'Available' &&
        !!document.querySelector('#directory tbody tr[data-id="bob"] .presence-available') &&
        document.querySelector('#workgroups tbody tr[data-id="Support"] td[data-count="available"]')?.textContent === '2',
      undefined,
      { timeout: 1000 },
    );
    expect(Date.now() - at).to.be.below(1000);
    expect(await page.$eval('#directory tbody tr[data-id="bob"]', (r) => r.classList.contains('changed'))).to.equal(true);
    expect(await page.textContent('#changes')).to.include(`${server.seq} status bob statusId, available`);

    server.status('ava', { onPhone: true, available: false });
    server.status('bob', { statusId: null, loggedIn: null, onPhone: null, available: false });
    await waitFor(
      'ava on the phone, bob without a status',
      async () => !(await presenceOf(page, 'ava')).available && (await presenceOf(page, 'bob')).text === null,
      1000,
    );
    await waitFor(
      'the panel',
      async () => JSON.stringify(await panel(page)).includes('"id":"Support","agents":5,"loggedIn":2,"available":0,"onPhone":1'),
      1000,
    );
    expect(await page.$eval('#directory tbody tr[data-id="ava"] .presence-phone', (m) => m.textContent)).to.equal('on the phone');

    server.remove('fay');
    await waitFor('fay gone', async () => !(await rowIds(page)).includes('fay'), 1000);
    await waitFor('Sales counts', async () => (await panel(page))[0]?.agents === 2, 1000);
    expect((await panel(page))[0]).to.deep.equal({ id: 'Sales', agents: 2, loggedIn: 2, available: 0, onPhone: 1 });
  });

  it('narrows the rows to one workgroup (a labelled select), together with the search', async () => {
    expect(await page.$eval('#workgroup', (s) => [...(s as HTMLSelectElement).options].map((o) => o.value))).to.deep.equal(['', 'Sales', 'Support']);
    await page.selectOption('#workgroup', 'Sales');
    expect(await rowIds(page)).to.deep.equal(['ava', 'una']);
    expect(await page.textContent('#shown')).to.equal(`2 of ${server.users.size} users in Sales`);
    await page.fill('#search', 'una');
    expect(await rowIds(page)).to.deep.equal(['una']);
    expect(await page.textContent('#shown')).to.equal(`1 of ${server.users.size} users in Sales match “una”`);
    // A change keeps the filter: a user joining Sales shows up.
    await page.fill('#search', '');
    server.upsert('tom', { workgroups: wg('Sales') });
    await waitFor('tom in Sales', async () => (await rowIds(page)).includes('tom'), 1000);
    await page.selectOption('#workgroup', '');
    expect(await rowIds(page)).to.have.length(server.users.size);
  });

  it('keeps the statuses over a resume, and after a reset shows only the fresh snapshot’s', async () => {
    server.dropAll();
    await page.waitForSelector('#connection[data-state="waiting"]', { timeout: 5000 });
    server.status('una', { statusId: 'Available', available: true });
    await page.waitForSelector('#connection[data-state="live"]', { timeout: 10000 });
    await waitFor('una available', async () => (await presenceOf(page, 'una')).available, 2000);
    expect(server.upgrades.at(-1)!.searchParams.get('since'), 'a resume').to.not.equal(null);
    expect((await presenceOf(page, 'tom')).text, 'a status no frame touched').to.equal('At a Training Session');

    server.newEpoch('e2', [user('ava', 'Ava Available', ['Support'], on('At Lunch')), user('bob', 'Bob Break', ['Support'])]);
    await waitFor('the fresh snapshot on the page', async () => JSON.stringify(await rowIds(page)) === '["ava","bob"]', 5000);
    expect(await presenceOf(page, 'ava')).to.deep.include({ text: 'At Lunch', group: 'break', available: false });
    expect((await presenceOf(page, 'bob')).text).to.equal(null);
    await waitFor(
      'the panel',
      async () => JSON.stringify(await panel(page)) === JSON.stringify([{ id: 'Support', agents: 2, loggedIn: 1, available: 0, onPhone: 0 }]),
      1000,
    );
  });

  it('without the catalogue (GET /v1/statuses failing) shows the statusId, uncoloured', async () => {
    catalogueFails = true;
    const tab = await browser.newPage();
    await open(tab);
    await waitFor('the failed request', () => catalogueRequests.length >= 2, 5000);
    expect(await presenceOf(tab, 'ava')).to.deep.include({ text: 'At Lunch', group: 'other' });
    server.status('bob', { statusId: 'Away from desk', loggedIn: true, onPhone: false, available: false });
    await waitFor('bob', async () => (await presenceOf(tab, 'bob')).text === 'Away from desk', 1000);
    expect((await presenceOf(tab, 'bob')).group).to.equal('other');
    await waitFor('with the catalogue: its words', async () => (await presenceOf(page, 'bob')).text === 'Away From Desk', 1000);
    await tab.close();
    catalogueFails = false;
  });
});
