/// <reference lib="dom" />
/**
 * The directory as a real table: one row per user, kept by id so that a change rewrites only its row (and
 * highlights it briefly); search hides the rows that do not match; a column header's button sorts by it.
 */
import type { UserProps } from '../client/index.js';
import { nameOf, text } from './format.js';

type Column = 'name' | 'extension' | 'status' | 'workgroups';
const COLUMNS: Column[] = ['name', 'extension', 'status', 'workgroups'];

interface Row {
  tr: HTMLTableRowElement;
  cells: Record<Column, string>;
  /** Lower-cased text searched by the filter. */
  haystack: string;
}

/** How long a changed row stays highlighted (the CSS animation of .changed lasts as long). */
export const HIGHLIGHT_MS = 2000;

export class DirectoryTable {
  private readonly rows = new Map<string, Row>();
  private sortBy: Column = 'name';
  private descending = false;
  private query = '';
  private resortPending = false;

  constructor(
    private readonly table: HTMLTableElement,
    private readonly counter: HTMLElement,
  ) {
    for (const th of table.tHead!.querySelectorAll<HTMLTableCellElement>('th[data-column]')) {
      th.querySelector('button')!.addEventListener('click', () => this.sort(th.dataset.column as Column));
    }
    this.markSorted();
  }

  /** Everything anew (a snapshot). */
  replace(users: ReadonlyMap<string, UserProps>): void {
    const body = this.table.tBodies[0]!;
    body.replaceChildren();
    this.rows.clear();
    for (const [id, user] of users) this.rows.set(id, this.row(id, user));
    this.resort();
  }

  /** One user changed (undefined: removed). */
  update(id: string, user: UserProps | undefined): void {
    const row = this.rows.get(id);
    if (!user) {
      row?.tr.remove();
      this.rows.delete(id);
      this.count();
      return;
    }
    const next = this.row(id, user, row?.tr);
    this.rows.set(id, next);
    next.tr.classList.remove('changed');
    void next.tr.offsetWidth; // restart the highlight animation
    next.tr.classList.add('changed');
    setTimeout(() => next.tr.classList.remove('changed'), HIGHLIGHT_MS);
    if (!row || row.cells[this.sortBy] !== next.cells[this.sortBy]) this.scheduleResort();
    else this.count();
  }

  filter(query: string): void {
    this.query = query.trim().toLowerCase();
    for (const r of this.rows.values()) r.tr.hidden = !this.matches(r);
    this.count();
  }

  sort(column: Column): void {
    this.descending = this.sortBy === column ? !this.descending : false;
    this.sortBy = column;
    this.markSorted();
    this.resort();
  }

  private row(id: string, user: UserProps, tr = document.createElement('tr')): Row {
    const cells: Record<Column, string> = {
      name: nameOf(id, user),
      extension: text(user.extension),
      status: text(user.statusText),
      workgroups: text(user.workgroups),
    };
    tr.dataset.id = id;
    tr.replaceChildren(
      ...COLUMNS.map((c, i) => {
        const cell = document.createElement(i === 0 ? 'th' : 'td');
        if (i === 0) cell.setAttribute('scope', 'row');
        cell.textContent = cells[c];
        if (i === 0 && cells.name !== id) cell.title = id;
        return cell;
      }),
    );
    const r: Row = { tr, cells, haystack: `${id} ${COLUMNS.map((c) => cells[c]).join(' ')}`.toLowerCase() };
    tr.hidden = !this.matches(r);
    return r;
  }

  private matches(r: Row): boolean {
    return !this.query || r.haystack.includes(this.query);
  }

  private scheduleResort(): void {
    if (this.resortPending) return;
    this.resortPending = true;
    requestAnimationFrame(() => this.resort());
  }

  private resort(): void {
    this.resortPending = false;
    const col = this.sortBy;
    const sign = this.descending ? -1 : 1;
    const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
    const sorted = [...this.rows.values()].sort((a, b) => sign * (collator.compare(a.cells[col], b.cells[col]) || collator.compare(a.cells.name, b.cells.name)));
    this.table.tBodies[0]!.append(...sorted.map((r) => r.tr));
    this.count();
  }

  private markSorted(): void {
    for (const th of this.table.tHead!.querySelectorAll<HTMLTableCellElement>('th[data-column]')) {
      th.setAttribute('aria-sort', th.dataset.column === this.sortBy ? (this.descending ? 'descending' : 'ascending') : 'none');
    }
  }

  private count(): void {
    let shown = 0;
    for (const r of this.rows.values()) if (!r.tr.hidden) shown++;
    const total = this.rows.size;
    this.counter.textContent = this.query ? `${shown} of ${total} users match “${this.query}”` : `${total} users`;
  }
}
