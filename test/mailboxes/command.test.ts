import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runIcwatch, type CliResult } from './cli.js';

const PASSWORD = 'sim-Secret-9f2';
const VIEWER_PASSWORD = 'viewer-Secret-4c1';
const MAILBOXES_PATH = '/configuration/workgroups/Support/monitored-mailboxes';

/** Every part appears in `text`; a failure names the missing part. */
function expectLines(text: string, parts: string[]): void {
  for (const part of parts) expect(text).to.include(part);
}

describe('icwatch mailboxes', function () {
  this.timeout(30000);
  let sim: Simulator;
  let dir: string;
  let fileNo = 0;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'icwatch-mailboxes-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    sim = await startSimulator({ port: 0, users: 5, password: PASSWORD, readOnlyUser: 'viewer', readOnlyPassword: VIEWER_PASSWORD });
  });
  afterEach(() => sim.close());

  /** Writes `content` (YAML, unless it is already text) and runs the command against the simulator. */
  async function run(content: unknown, extra: string[] = [], env: Record<string, string> = {}, workgroup = 'Support'): Promise<CliResult> {
    const file = join(dir, `input-${++fileNo}.yaml`);
    writeFileSync(file, typeof content === 'string' ? content : stringify(content));
    const result = await runIcwatch(['mailboxes', '--workgroup', workgroup, '-f', file, ...extra], {
      ICWATCH_ICWS_URL: sim.url,
      ICWATCH_ICWS_USER: 'icwatch',
      ICWATCH_ICWS_PASSWORD: PASSWORD,
      ...env,
    });
    // Secrets never reach output, whatever the outcome.
    expect(result.stdout + result.stderr).not.to.include(PASSWORD);
    return result;
  }
  const posts = () => sim.control.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/monitored-mailboxes'));
  const ids = () => (sim.control.mailboxes('Support') ?? []).map((m) => m.configurationId.id).sort();

  it('applies a valid file: prints the updated ids, exits 0, logs out, and the workgroup changed', async () => {
    const r = await run({
      add: [{ emailAddress: 'orders@example.com', mailboxMoniker: 'ews:orders@example.com', mailboxType: 'inbound', inboundFolder: 'Inbox/New' }],
      modify: [{ configurationId: 'support-out@example.com', canReceiveEncryptedEmail: true }],
      remove: ['support-shared@example.com'],
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('Workgroup Support: 2 monitored mailboxes added or modified, 1 removed.');
    expect(r.stdout).to.include('Removed: support-shared@example.com');
    expect(r.stdout).to.match(/^ID\s+URI\s+LICENSE PROBLEMS$/m);
    expect(r.stdout).to.match(/^orders@example\.com\s+\/configuration\/workgroups\/Support\/monitored-mailboxes\/orders%40example\.com\s+-$/m);
    expect(r.stdout).to.match(/^support-out@example\.com\s+\S+\s+-$/m);

    expect(ids()).to.deep.equal(['orders@example.com', 'support-out@example.com', 'support@example.com']);
    const added = sim.control.mailboxes('Support')!.find((m) => m.configurationId.id === 'orders@example.com')!;
    expect(added).to.include({ mailboxType: 0, inboundFolder: 'Inbox/New' });
    expect(sim.control.mailboxes('Support')!.find((m) => m.configurationId.id === 'support-out@example.com')!.canReceiveEncryptedEmail).to.equal(true);
    expect(sim.control.requests.map((q) => `${q.method} ${q.name} ${q.status}`)).to.deep.equal([
      'POST connect 201',
      'POST mailboxes 200',
      'DELETE connection 204',
    ]);
    expect(posts().map((p) => p.path.replace(/^\/icws\/[^/]+/, ''))).to.deep.equal([MAILBOXES_PATH]);
  });

  it('prints license warnings by name and meaning and still exits 0', async () => {
    const r = await run({
      add: [
        { emailAddress: 'orders@example.com', mailboxMoniker: 'ews:orders@example.com', mailboxType: 2, inboundFolder: 'Inbox' },
        { emailAddress: 'info@example.com', mailboxMoniker: 'ews:info@example.com', mailboxType: 'outbound' },
        { emailAddress: 'helpdesk@example.com', mailboxMoniker: 'imap:helpdesk@example.com', inboundFolder: 'INBOX.Triage' },
      ],
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('3 monitored mailboxes added or modified.');
    // By the license's displayName (the server sends a ConfigurationId), never [object Object].
    expect(r.stdout).to.match(/^info@example\.com\s+\S+\s+Interaction ACD Email setWarningExceedsThreshold \(1\)$/m);
    expect(r.stdout).not.to.include('[object Object]');
    expect(r.stdout).to.include('setWarningExceedsThreshold (1): Indicates that a dynamic license was found');
  });

  it('reports every local problem by entry and property, exits 2 and sends nothing', async () => {
    const r = await run({
      add: [
        { mailboxMoniker: 'ews:orders@example.com', mailboxType: 'sideways' },
        { emailAddress: 'info@example.com', mailboxMoniker: 'ews:info@example.com', mailboxType: 'outbound', inboundFolder: 'Inbox' },
      ],
      modify: [{ mailboxType: 0 }],
      remove: [42],
      replace: [],
    });
    expect(r.code).to.equal(2);
    expectLines(r.stderr, [
      '6 problems in the input; nothing was sent',
      'add[0].emailAddress: required on add',
      'add[0].mailboxType: got "sideways"; expected one of inbound (0), outbound (1), outboundAndInbound (2)',
      'add[1].inboundFolder: only for inbound mailbox types',
      'modify[0].configurationId: required on modify',
      'remove[0]: got 42',
      'replace: unknown key; expected add, modify or remove',
    ]);
    expect(sim.control.requests).to.deep.equal([]);
  });

  it('refuses an empty file and a file with nothing to do, sending nothing', async () => {
    const empty = await run('');
    expect(empty.code).to.equal(2);
    expect(empty.stderr).to.include('(file): the file is empty');
    const nothing = await run('{"add": [], "remove": []}');
    expect(nothing.code).to.equal(2);
    expect(nothing.stderr).to.include('nothing to do');
    expect(sim.control.requests).to.deep.equal([]);
  });

  it('--dry-run prints the exact request body and sends nothing, not even a login', async () => {
    const r = await run(
      {
        add: [{ emailAddress: 'orders@example.com', mailboxMoniker: 'ews:orders@example.com', mailboxType: 'outboundAndInbound', inboundFolder: 'Inbox' }],
        modify: [{ configurationId: { id: 'support@example.com' }, mailboxType: 'inbound' }],
        remove: ['support-out@example.com'],
      },
      ['--dry-run'],
    );
    expect(r.code, r.stderr).to.equal(0);
    // As the reference page has it (docs/icws.md "Monitored mailboxes"): no __type, no empty list.
    expect(JSON.parse(r.stdout)).to.deep.equal({
      add: [{ emailAddress: 'orders@example.com', inboundFolder: 'Inbox', mailboxMoniker: 'ews:orders@example.com', mailboxType: 2 }],
      modify: [{ configurationId: { id: 'support@example.com' }, mailboxType: 0 }],
      remove: ['support-out@example.com'],
    });
    expect(sim.control.requests).to.deep.equal([]);
  });

  it('prints every validation error of a server 400 with its validator name, meaning and property, and exits 1', async () => {
    const before = ids();
    // Problems only the server can see: a folder the mailbox lacks, ids it does not have.
    const r = await run({
      add: [{ emailAddress: 'orders@example.com', mailboxMoniker: 'ews:orders@example.com', mailboxType: 'inbound', inboundFolder: 'Inbox/Missing' }],
      modify: [{ configurationId: 'ghost@example.com', mailboxType: 1 }],
      remove: ['phantom@example.com'],
    });
    expect(r.code).to.equal(1);
    expectLines(r.stderr, [
      '(400 error.request.configuration.update)',
      'Validation errors (3):',
      'inboundFolder = "Inbox/Missing": invalidMailboxFolder (32): The value is not a valid mailbox.',
      'configurationId = "ghost@example.com": existingInstanceId (2): The value must represent a valid ID for a configured instance.',
      'remove = "phantom@example.com": existingInstanceId (2)',
    ]);
    expect(r.stdout).to.equal('');
    expect(ids()).to.deep.equal(before);
  });

  it("shows the server's message on 403 (read-only account) and 404 (unknown workgroup), exit 1", async () => {
    const file = { remove: ['support-out@example.com'] };
    const forbidden = await run(file, [], { ICWATCH_ICWS_USER: 'viewer', ICWATCH_ICWS_PASSWORD: VIEWER_PASSWORD });
    expect(forbidden.code).to.equal(1);
    expect(forbidden.stderr).to.include(
      '(403 error.request.accessDenied): User "viewer" is not authorized to modify the monitored mailboxes of workgroup "Support".',
    );
    expect(forbidden.stderr).not.to.include(VIEWER_PASSWORD);

    const missing = await run(file, [], {}, 'Nowhere');
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include('(404 error.request.notFound): The workgroup "Nowhere" does not exist.');
    expect(ids()).to.include('support-out@example.com');
  });

  it('logs in again and retries once when the session expired after login', async () => {
    sim.control.injectFaults({ status: 401, route: 'mailboxes', count: 1 });
    const r = await run({ remove: ['support-out@example.com'] });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include('logging in again and retrying once');
    expect(sim.control.requests.map((q) => `${q.method} ${q.name} ${q.status}`)).to.deep.equal([
      'POST connect 201',
      'POST mailboxes 401',
      'POST connect 201',
      'POST mailboxes 200',
      'DELETE connection 204',
    ]);
    expect(ids()).not.to.include('support-out@example.com');
  });

  it('gives up after one retry when the fresh session is refused too', async () => {
    sim.control.injectFaults({ status: 401, route: 'mailboxes', count: 2 });
    const r = await run({ remove: ['support-out@example.com'] });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('the session is gone (401');
    expect(r.stderr).not.to.match(/icws\.password|credentials/);
    expect(posts().length).to.equal(2);
  });

  it('prints the errorId of a 500, does not retry it, exits 1', async () => {
    sim.control.injectFaults({ status: 500, route: 'mailboxes', errorId: 'error.request.internalServerError', message: 'Boom.' });
    const r = await run({ remove: ['support-out@example.com'] });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('the server failed (500 error.request.internalServerError): Boom.');
    expect(posts().length).to.equal(1);
  });

  it('exits 78 naming the resource on 410 Gone', async () => {
    sim.control.injectFaults({ status: 410, route: 'mailboxes' });
    const r = await run({ remove: ['support-out@example.com'] });
    expect(r.code).to.equal(78);
    expect(r.stderr).to.include('removed /configuration/workgroups/{id}/monitored-mailboxes from its API (410 Gone');
  });

  it('leaves empty lists out of the dry-run body', async () => {
    const r = await run({ add: [], modify: [], remove: ['support-out@example.com'] }, ['--dry-run']);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal({ remove: ['support-out@example.com'] });
  });

  it('prints a license error by the license name and exits 1, nothing applied', async () => {
    const before = ids();
    const add = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => ({
      emailAddress: `${n}@example.com`,
      mailboxMoniker: 'ews:info@example.com',
      mailboxType: 'outbound',
    }));
    const r = await run({ add });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('License errors (1):');
    expect(r.stderr).to.include('  - Interaction ACD Email: setErrorExceedsThreshold (2): ');
    expect(r.stderr).not.to.include('[object Object]');
    expect(ids()).to.deep.equal(before);
  });

  for (const status of [400, 401] as const) {
    it(`exits 78 naming the credentials when the login is refused (${status}${status === 400 ? ', as real servers answer' : ', the tidy variant'})`, async () => {
      sim.control.setRefusedLoginStatus(status);
      const r = await run({ remove: ['support-out@example.com'] }, [], { ICWATCH_ICWS_PASSWORD: 'not-the-password' });
      expect(r.code, r.stderr).to.equal(78);
      expect(r.stderr).to.match(
        /^icwatch: ICWS refused the login for the configured user \(.*error\.request\.connection\.authenticationFailure.*Check icws\.user and icws\.password/m,
      );
      expect(r.stderr).not.to.include('not-the-password');
      expect(sim.control.requests.map((q) => `${q.method} ${q.name} ${q.status}`)).to.deep.equal([`POST connect ${status}`]);
    });
  }

  it('exits 78 without a password configured, sending nothing', async () => {
    const r = await run({ remove: ['support-out@example.com'] }, [], { ICWATCH_ICWS_PASSWORD: '' });
    expect(r.code).to.equal(78);
    expect(r.stderr).to.include('icws.password: required to log in');
    expect(sim.control.requests).to.deep.equal([]);
  });
});
