/**
 * `/`: the live status and directory page. The HTML carries the status as of the request when no token guards the
 * reads (so it says something without JavaScript too); /assets/page.js (src/page, bundled with icwatch/client) then
 * keeps it live. No inline script or style (the page's Content-Security-Policy forbids them). Every value is escaped.
 */
import type { StatusView } from './types.js';

const esc = (v: string | number | boolean | null | undefined) =>
  String(v ?? '—').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The page's style sheet, served as /assets/page.css: the page's Content-Security-Policy allows no inline style. */
export const PAGE_STYLE = `
:root{color-scheme:light dark;--fg:#1d1d1f;--muted:#5f6368;--line:#d9dce1;--bg:#fff;--head:#f3f4f6;--hi:#fff3b0;--ok:#1a7f37;--bad:#b3261e;--warn:#9a6700}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--muted:#a0a4a8;--line:#3c4043;--bg:#151617;--head:#202124;--hi:#5c4b00}}
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:var(--fg);background:var(--bg)}
header{display:flex;gap:1em;align-items:baseline;padding:.8em 1.5em;border-bottom:1px solid var(--line)}
h1{font-size:1.3em;margin:0}h2{font-size:1.05em;margin:1.2em 0 .5em}
main{padding:0 1.5em 2em}
#connection{padding:.15em .6em;border-radius:1em;border:1px solid currentColor;font-size:.9em}
#connection[data-state=live]{color:var(--ok)}#connection[data-state=waiting],#connection[data-state=refused]{color:var(--bad)}
#connection[data-state=connecting],#connection[data-state=syncing]{color:var(--warn)}
.panels{display:flex;flex-wrap:wrap;gap:2em}
table.status{width:auto}table.status th,table.status td{border:0;padding:.1em 1em .1em 0}table.status th{color:var(--muted);font-weight:normal}
figure{margin:0}svg#lag-chart{width:600px;max-width:100%;height:140px;border:1px solid var(--line)}
svg .grid{stroke:var(--line)}svg .axis{fill:var(--muted);font-size:10px}svg .line{fill:none;stroke-width:1.5}
svg .redis,.key-redis{stroke:#1a73e8;color:#1a73e8}svg .websocket,.key-websocket{stroke:#e8710a;color:#e8710a}
figcaption{color:var(--muted);font-size:.9em}
.search{display:flex;gap:.6em;align-items:center;margin:.5em 0}
input[type=search]{font:inherit;padding:.3em .5em;min-width:18em}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid var(--line);padding:.3em .7em;text-align:left;vertical-align:top}
thead th{background:var(--head);position:sticky;top:0}
thead th button{font:inherit;font-weight:600;background:none;border:0;padding:0;color:inherit;cursor:pointer}
thead th[aria-sort=ascending] button::after{content:" ▲"}thead th[aria-sort=descending] button::after{content:" ▼"}
tbody th{font-weight:500}
tr.changed th{box-shadow:inset 3px 0 var(--hi)}
table#directory{table-layout:fixed}
table#directory col:nth-child(1){width:24%}table#directory col:nth-child(2){width:12%}table#directory col:nth-child(3){width:30%}table#directory col:nth-child(4){width:34%}
#changes{font:12px ui-monospace,monospace;color:var(--muted);max-height:12em;max-width:60em;overflow:auto;list-style:none;padding:0;margin:0}
#changes li{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
`;

export function renderLivePage(view: StatusView, scriptPath: string, stylePath: string): string {
  const status: Array<[string, string, string | number | undefined]> = [
    ['st-daemon', 'Daemon', `${view.daemon} (version ${view.version})`],
    ['st-session', 'ICWS session', view.session],
    ['st-leader', 'Leader', `— (role ${view.role})`],
    ['st-ready', 'Readiness', '—'],
    ['st-redis', 'Redis', view.redis],
    ['st-users', 'Users', view.users],
    ['st-held', 'Removals held', heldText(view.removalsHeld)],
    ['st-seq', 'Mirror seq', view.seq],
    ['st-verified', 'Last verification', verifiedText(view.verifiedAt)],
    ['client-seq', 'Page seq', '—'],
    ['st-clients', 'WebSocket clients', view.wsClients],
    ['st-updated', 'Status updated', new Date().toISOString()],
  ];
  const changes = view.recentChanges
    .map((c) => `<li>${esc(c.seq)} ${esc(c.op)} ${esc(c.id)}${c.op === 'upsert' ? ` ${esc(Object.keys(c.data).join(', '))}` : ''}</li>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>icwatch</title><link rel="stylesheet" href="${esc(stylePath)}"></head>
<body>
<header><h1>icwatch</h1><span id="connection" role="status" aria-live="polite" data-state="idle">starting…</span></header>
<main>
<div class="panels">
<section aria-labelledby="status-title"><h2 id="status-title">Status</h2>
<table class="status"><tbody>${status.map(([id, label, v]) => `<tr id="${id}"><th>${esc(label)}</th><td>${esc(v)}</td></tr>`).join('')}</tbody></table></section>
<section aria-labelledby="lag-title"><h2 id="lag-title">Lag (p99, last minutes)</h2>
<figure><svg id="lag-chart" viewBox="0 0 600 140" role="img" aria-labelledby="lag-caption"></svg>
<figcaption id="lag-caption"><span class="key-redis">■</span> to Redis: <span id="lag-redis">${esc(lagText(view, 'redis'))}</span><br>
<span class="key-websocket">■</span> to WebSocket: <span id="lag-websocket">${esc(lagText(view, 'websocket'))}</span></figcaption></figure></section>
<section aria-labelledby="changes-title"><h2 id="changes-title">Last changes</h2><ul id="changes">${changes}</ul></section>
</div>
<section aria-labelledby="dir-title"><h2 id="dir-title">Directory</h2>
<div class="search"><label for="search">Search the directory</label>
<input id="search" type="search" placeholder="name, extension, status, workgroup" autocomplete="off" aria-describedby="search-help shown">
<span id="search-help" class="sr-only">Press / to search, Escape to clear.</span>
<span id="shown" aria-live="polite"></span></div>
<table id="directory"><caption class="sr-only">Users of the directory; column headers sort.</caption>
<colgroup><col><col><col><col></colgroup>
<thead><tr><th scope="col" data-column="name"><button type="button">Name</button></th><th scope="col" data-column="extension"><button type="button">Extension</button></th>
<th scope="col" data-column="status"><button type="button">Status text</button></th><th scope="col" data-column="workgroups"><button type="button">Workgroups</button></th></tr></thead>
<tbody></tbody></table></section>
<p><a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></p>
</main>
<noscript><p>The live directory needs JavaScript; the status above is as of loading the page.</p></noscript>
<script type="module" src="${esc(scriptPath)}"></script>
</body></html>
`;
}

/** The delete guard's hold, in the words of /readyz (README "Mass deletions are held"). */
export function heldText(n: number | undefined): string {
  return n ? `${n} removals held (icwatch removals --list)` : 'none';
}

function lagText(view: StatusView, stage: string): string {
  const l = view.lag[stage];
  const f = (s: number | undefined) => (s === undefined ? '—' : `${(s * 1000).toFixed(1)} ms`);
  return l ? `since start p50 ${f(l.p50)} · p99 ${f(l.p99)}` : '—';
}

/** The time of the last verification against ICWS (subscription.verifyIntervalMs), or why there is none yet. */
export function verifiedText(at: number | undefined): string {
  return at === undefined ? 'none yet' : new Date(at).toISOString();
}
