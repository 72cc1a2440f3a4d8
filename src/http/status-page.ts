/** `/`: a small self-refreshing HTML page for an operator's browser. Every value is escaped. */
import type { StatusView } from './types.js';

/** Seconds between two automatic refreshes of the page. */
export const STATUS_REFRESH_SECONDS = 5;

const esc = (v: unknown) =>
  String(v ?? '—').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const ms = (s: number | undefined) => (s === undefined ? '—' : `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`);
const time = (t: number | undefined) => (t ? new Date(t).toISOString() : '—');

export function renderStatusPage(view: StatusView): string {
  const rows: Array<[string, unknown]> = [
    ['Daemon', `${view.daemon} (role ${view.role}, version ${view.version})`],
    ...(view.leader ? [['Leader', view.leader] as [string, unknown]] : []),
    ['ICWS session', view.session],
    ['Redis', view.redis],
    ['Users', view.users],
    ['Seq', view.seq],
    ['Epoch', view.epoch],
    ['Full replace under way', view.syncing === undefined ? undefined : view.syncing ? 'yes' : 'no'],
    ['Last change', time(view.lastChangeAt)],
    ['WebSocket clients', view.wsClients],
    ...Object.entries(view.lag).map(([stage, l]): [string, unknown] => [`Lag to ${stage} p50 / p99`, `${ms(l.p50)} / ${ms(l.p99)}`]),
    ['Last error', view.lastError],
  ];
  const changes = view.recentChanges
    .map((c) => `<tr><td>${esc(c.seq)}</td><td>${esc(time(c.at))}</td><td>${esc(c.op)}</td><td>${esc(c.id)}</td><td><code>${esc(c.op === 'upsert' ? JSON.stringify(c.data) : '')}</code></td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${STATUS_REFRESH_SECONDS}">
<title>icwatch</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}
td,th{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:left;vertical-align:top}th{background:#f4f4f4}
code{font-size:12px;word-break:break-all}</style></head>
<body><h1>icwatch</h1>
<table>
${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('\n')}
</table>
<h2>Last changes</h2>
<table><tr><th>seq</th><th>at</th><th>op</th><th>id</th><th>data</th></tr>
${changes || '<tr><td colspan="5">none yet</td></tr>'}
</table>
<p><a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></p>
</body></html>
`;
}
