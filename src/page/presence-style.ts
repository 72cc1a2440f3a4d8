/// <reference lib="dom" />
/**
 * The style of what the page's script adds for presence (the Presence column, the workgroup filter and panel),
 * adopted as a constructed style sheet: the page's Content-Security-Policy allows no inline style, and the CSSOM
 * is not inline style. The rest of the page's style is /assets/page.css.
 */
export const PRESENCE_STYLE = `
:root{--p-available:#1a7f37;--p-break:#9a6700;--p-followup:#0b57d0;--p-training:#8250df;--p-unavailable:#6e7781;--p-other:var(--muted)}
@media (prefers-color-scheme:dark){:root{--p-available:#57c26f;--p-break:#e3b341;--p-followup:#6ea8fe;--p-training:#b392f0;--p-unavailable:#9aa0a6}}
.presence{display:inline-flex;align-items:center;gap:.35em}
.presence-dot{display:inline-block;width:.65em;height:.65em;border-radius:50%;background:currentColor;flex:none}
.presence[data-group=available]{color:var(--p-available)}.presence[data-group=break]{color:var(--p-break)}
.presence[data-group=followup]{color:var(--p-followup)}.presence[data-group=training]{color:var(--p-training)}
.presence[data-group=unavailable]{color:var(--p-unavailable)}.presence[data-group=other]{color:var(--p-other)}
.presence[data-group=other] .presence-dot{background:none;border:1px solid currentColor;box-sizing:border-box}
.presence-available,.presence-phone{margin-left:.5em;padding:0 .45em;border-radius:1em;font-size:.8em;border:1px solid currentColor;white-space:nowrap}
.presence-available{color:var(--p-available)}.presence-phone{color:var(--muted)}
table#directory col:nth-child(1){width:20%}table#directory col:nth-child(2){width:9%}table#directory col:nth-child(3){width:21%}
table#directory col:nth-child(4){width:22%}table#directory col:nth-child(5){width:28%}
.search select{font:inherit;padding:.25em .4em}
table.workgroups{width:auto}table.workgroups td{text-align:right;font-variant-numeric:tabular-nums}
table.workgroups td.available{color:var(--p-available);font-weight:600}
#workgroups-panel .scroll{max-height:22em;overflow:auto}#workgroups-panel .empty{color:var(--muted)}
`;

/** Adopts the presence style once (where constructed style sheets exist; elsewhere the page works uncoloured). */
export function adoptPresenceStyle(doc: Document = document): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(PRESENCE_STYLE);
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  } catch {
    // an old browser: the statuses still read as text
  }
}
