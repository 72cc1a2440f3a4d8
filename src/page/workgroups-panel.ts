/// <reference lib="dom" />
/**
 * The workgroups on the page: a live panel of each workgroup's agents, how many are logged in, available and on the
 * phone (icwatch/client's `workgroups()`, kept by the client change by change), and the directory's workgroup filter
 * (a labelled select). Both are drawn at most once per animation frame, however many changes arrive, and each draw
 * touches only the cells whose number changed and the rows of workgroups that came or went.
 */
import type { WorkgroupCounts } from '../client/index.js';

const COUNTS = ['agents', 'loggedIn', 'available', 'onPhone'] as const;
const HEADS: Record<(typeof COUNTS)[number], string> = { agents: 'Agents', loggedIn: 'Logged in', available: 'Available', onPhone: 'On phone' };

interface PanelRow {
  tr: HTMLTableRowElement;
  cells: Record<(typeof COUNTS)[number], HTMLTableCellElement>;
}

export class WorkgroupsPanel {
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLParagraphElement;
  private readonly rows = new Map<string, PanelRow>();
  private order: string[] = [];

  /** Adds the panel (a section with a table) to `container`. */
  constructor(container: Element) {
    const section = document.createElement('section');
    section.id = 'workgroups-panel';
    section.setAttribute('aria-labelledby', 'workgroups-title');
    const h2 = document.createElement('h2');
    h2.id = 'workgroups-title';
    h2.textContent = 'Workgroups';
    const table = document.createElement('table');
    table.id = 'workgroups';
    table.className = 'workgroups';
    const caption = table.createCaption();
    caption.className = 'sr-only';
    caption.textContent = 'Agents per workgroup, and how many of them are logged in, available and on the phone; live.';
    const head = table.createTHead().insertRow();
    for (const words of ['Workgroup', ...COUNTS.map((c) => HEADS[c])]) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = words;
      head.append(th);
    }
    this.body = table.createTBody();
    this.empty = document.createElement('p');
    this.empty.className = 'empty';
    this.empty.textContent = 'No user lists a workgroup.';
    this.empty.hidden = true;
    // Many workgroups scroll inside the panel (focusable, so that a keyboard can scroll it too).
    const scroll = document.createElement('div');
    scroll.className = 'scroll';
    scroll.tabIndex = 0;
    scroll.setAttribute('aria-labelledby', 'workgroups-title');
    scroll.setAttribute('role', 'region');
    scroll.append(table);
    section.append(h2, scroll, this.empty);
    container.append(section);
  }

  render(workgroups: readonly WorkgroupCounts[]): void {
    const ids = workgroups.map((w) => w.id);
    const same = ids.length === this.order.length && ids.every((id, i) => id === this.order[i]);
    if (!same) {
      const keep = new Set(ids);
      for (const [id, row] of this.rows) {
        if (keep.has(id)) continue;
        this.rows.delete(id);
        row.tr.remove();
      }
      for (const w of workgroups) if (!this.rows.has(w.id)) this.rows.set(w.id, this.row(w.id));
      this.body.replaceChildren(...ids.map((id) => this.rows.get(id)!.tr)); // workgroups come sorted by id
      this.order = ids;
    }
    for (const w of workgroups) {
      const row = this.rows.get(w.id)!;
      for (const c of COUNTS) {
        const v = String(w[c]);
        if (row.cells[c].textContent !== v) row.cells[c].textContent = v;
      }
    }
    this.empty.hidden = workgroups.length > 0;
  }

  private row(id: string): PanelRow {
    const tr = document.createElement('tr');
    tr.dataset.id = id;
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = id;
    tr.append(th);
    const cells = {} as PanelRow['cells'];
    for (const c of COUNTS) {
      const td = document.createElement('td');
      td.className = c;
      td.dataset.count = c;
      cells[c] = td;
      tr.append(td);
    }
    return { tr, cells };
  }
}

/** The directory's workgroup filter: a labelled select, its options the workgroups users list. */
export class WorkgroupFilter {
  readonly select: HTMLSelectElement;
  private ids: string[] = [];

  /** Adds the filter to `container`, after `after` (or at its end); `changed` gets the workgroup chosen ('' = all). */
  constructor(container: Element, after: Element | null, changed: (id: string) => void) {
    const label = document.createElement('label');
    label.htmlFor = 'workgroup';
    label.textContent = 'Workgroup';
    this.select = document.createElement('select');
    this.select.id = 'workgroup';
    this.select.append(new Option('All workgroups', ''));
    this.select.addEventListener('change', () => changed(this.select.value));
    container.insertBefore(label, after?.nextSibling ?? null);
    container.insertBefore(this.select, label.nextSibling);
  }

  /** The options: every workgroup listed now, and the chosen one even when no user lists it any more. */
  render(workgroups: readonly WorkgroupCounts[]): void {
    const chosen = this.select.value;
    const ids = workgroups.map((w) => w.id);
    if (chosen && !ids.includes(chosen)) ids.push(chosen);
    if (ids.length === this.ids.length && ids.every((id, i) => id === this.ids[i])) return;
    this.ids = ids;
    this.select.replaceChildren(new Option('All workgroups', ''), ...ids.map((id) => new Option(id, id)));
    this.select.value = chosen;
  }
}

/** Runs `draw` once in the next animation frame, however many times it is asked before then. */
export function perFrame(draw: () => void): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  };
}
