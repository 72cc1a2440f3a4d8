/// <reference lib="dom" />
/**
 * The live page at `/`: the directory from icwatch/client (HTTP snapshot, then the WebSocket from its seq, resumed
 * after drops) with each user's presence (docs/presence.md: the status in words from `GET /v1/statuses`, coloured by
 * group, an available marker), a workgroup filter and a live panel of the workgroups' counts, and the daemon's status
 * polled from /v1/status with a live lag chart. The token comes from the URL's
 * fragment (`/#access_token=…`, never sent to a server), is kept in the tab's session storage and taken out of the
 * address bar; it goes in the Authorization header and the WebSocket's subprotocols, never in a request URL.
 */
import { IcwatchClient, type ClientState } from '../client/index.js';
import { DirectoryTable } from './directory-table.js';
import type { Readiness, StatusView } from '../http/types.js';
import { ms, text } from './format.js';
import { heldText } from '../http/live-page.js';
import { LagChart, windowLag, type HistogramSample } from './lag-chart.js';
import { StatusCatalogue } from './presence.js';
import { adoptPresenceStyle } from './presence-style.js';
import { perFrame, WorkgroupFilter, WorkgroupsPanel } from './workgroups-panel.js';

/** Status poll interval, and the span of the chart (in polls: 5 minutes). */
const POLL_SECONDS = 2;
const CHART_POINTS = 150;
const STAGES = ['redis', 'websocket'] as const;
const RECENT_CHANGES = 15;

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;
const token = takeToken();

/** The token of the fragment (or an older `?access_token=` link), remembered for this tab and removed from the URL. */
function takeToken(): string | undefined {
  const KEY = 'icwatch.token';
  const fragment = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const given = fragment.get('access_token') ?? query.get('access_token');
  if (given !== null) {
    try {
      sessionStorage.setItem(KEY, given);
    } catch {
      // storage refused (a private mode): the token lives as long as the page
    }
    fragment.delete('access_token');
    query.delete('access_token');
    const rest = (q: URLSearchParams, mark: string) => (q.size ? `${mark}${q.toString()}` : '');
    history.replaceState(history.state, '', `${location.pathname}${rest(query, '?')}${rest(fragment, '#')}`);
    return given || undefined;
  }
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** GET a JSON path of icwatch with the token (in the Authorization header, never in the URL). */
async function getJson(path: string): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(path, { headers });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

adoptPresenceStyle();
const client = new IcwatchClient({ url: location.origin, token, snapshot: 'http', backoff: { initialMs: 250, maxMs: 5000, multiplier: 2, jitter: 0.5 } });
// Without the catalogue (an icwatch without presence, a refused or failed request) a status shows its statusId.
const catalogue = new StatusCatalogue(getJson, () => table.redraw(client.users));
const table = new DirectoryTable($<HTMLTableElement>('#directory'), $('#shown'), (status) => catalogue.view(status));
const search = $<HTMLInputElement>('#search');
search.addEventListener('input', () => table.filter(search.value));
const filter = new WorkgroupFilter($('.search'), search, (id) => table.filterWorkgroup(id));
const panel = new WorkgroupsPanel($('.panels'));
/** The panel and the filter's options, drawn at most once per animation frame however many changes arrive. */
const drawWorkgroups = perFrame(() => {
  const workgroups = client.workgroups();
  panel.render(workgroups);
  filter.render(workgroups);
});
document.addEventListener('keydown', (ev) => {
  // "/" jumps to the search box (unless typing elsewhere); Escape clears it.
  if (ev.key === '/' && document.activeElement !== search && !(document.activeElement instanceof HTMLInputElement)) {
    ev.preventDefault();
    search.focus();
  } else if (ev.key === 'Escape' && document.activeElement === search) {
    search.value = '';
    table.filter('');
  }
});

let shownMap: unknown = null;
client.on('synced', (seq) => {
  if (client.users !== shownMap) {
    shownMap = client.users;
    table.replace(client.users);
    table.filter(search.value);
  }
  setText('#client-seq > td', String(seq));
  drawWorkgroups();
});
/** One line in the last changes list. */
function recent(line: string): void {
  const li = document.createElement('li');
  li.textContent = line;
  const list = $('#changes');
  list.prepend(li);
  while (list.children.length > RECENT_CHANGES) list.lastElementChild!.remove();
}
client.on('change', (c) => {
  table.update(c.id, client.get(c.id));
  setText('#client-seq > td', String(c.seq));
  recent(`${c.seq} ${c.op} ${c.id}${c.op === 'upsert' ? ` ${Object.keys(c.data).join(', ')}` : ''}`);
  drawWorkgroups();
});
client.on('status', (s) => {
  table.update(s.id, client.get(s.id));
  setText('#client-seq > td', String(s.seq));
  recent(`${s.seq} status ${s.id} ${Object.keys(s.data).join(', ')}`);
  drawWorkgroups();
});
const STATE_TEXT: Record<ClientState, string> = {
  idle: 'not connected',
  connecting: 'connecting…',
  syncing: 'loading the directory…',
  live: 'live',
  waiting: 'disconnected, reconnecting…',
  refused: 'refused by icwatch',
  stopped: 'stopped',
};
client.on('state', (state, detail) => {
  const el = $<HTMLElement>('#connection');
  el.dataset.state = state;
  el.textContent = state === 'refused' ? `${STATE_TEXT[state]}: ${detail ?? ''}${token ? '' : ' (open the page as /#access_token=…)'}` : STATE_TEXT[state];
  el.title = detail ?? '';
});
client.on('error', () => {}); // shown through the state
client.start();
void catalogue.load();

// ---- status and lag ----

/** The status JSON; `leader` / `ha` appear once the daemon reports high availability. */
type Status = Partial<StatusView> & {
  readiness?: Readiness & { leader?: unknown };
  lagHistograms?: Record<string, HistogramSample>;
  leader?: unknown;
  ha?: { role?: unknown };
};
const chart = new LagChart($<SVGSVGElement>('#lag-chart'), STAGES, CHART_POINTS, POLL_SECONDS);
let previous: Record<string, HistogramSample> | undefined;

function setText(sel: string, value: string): void {
  const el = $(sel);
  if (el && el.textContent !== value) el.textContent = value;
}

/** Leader or standby, from whichever field the daemon gives (absent before high availability). */
function leadership(s: Status): string {
  const v = s.leader ?? s.ha?.role ?? s.readiness?.leader;
  if (v === undefined) return `— (role ${s.role ?? '?'})`;
  return typeof v === 'boolean' ? (v ? 'leader' : 'standby') : text(v);
}

async function pollStatus(): Promise<void> {
  try {
    const s = (await getJson('/v1/status')) as Status;
    setText('#st-daemon > td', `${s.daemon ?? '—'} (version ${s.version ?? '?'})`);
    setText('#st-session > td', s.session ?? '—');
    setText('#st-leader > td', leadership(s));
    setText('#st-redis > td', s.redis ?? '—');
    setText('#st-ready > td', s.readiness?.ready ? 'ready' : `not ready${s.readiness?.reason ? `: ${s.readiness.reason}` : ''}`);
    setText('#st-users > td', String(s.users ?? '—'));
    setText('#st-held > td', heldText(s.removalsHeld));
    setText('#st-seq > td', String(s.seq ?? '—'));
    setText('#st-verified > td', s.verifiedAt === undefined ? 'none yet' : new Date(s.verifiedAt).toLocaleString());
    setText('#st-clients > td', String(s.wsClients ?? '—'));
    const now = s.lagHistograms ?? {};
    const p99: Record<string, number | undefined> = {};
    for (const stage of STAGES) {
      const h = now[stage];
      if (!h) continue;
      const w = windowLag(previous?.[stage], h);
      p99[stage] = w.p99;
      setText(`#lag-${stage}`, w.count ? `p99 ${ms(w.p99)} · mean ${ms(w.mean)} (${w.count} in ${POLL_SECONDS} s)` : 'no changes in the last poll');
    }
    if (previous) chart.add({ at: Date.now(), p99 });
    previous = now;
    setText('#st-updated > td', new Date().toLocaleTimeString());
  } catch (err) {
    setText('#st-updated > td', `status unavailable (${(err as Error).message})`);
    previous = undefined; // a restarted daemon starts its histograms again
  }
}
void pollStatus();
setInterval(() => void pollStatus(), POLL_SECONDS * 1000);
