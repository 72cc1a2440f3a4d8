/// <reference lib="dom" />
/**
 * The directory as a real table: one row per user, kept by id so that a change rewrites only its row (and
 * highlights it briefly); search and the workgroup filter hide the rows that do not match; a column header's button
 * sorts by it. The Presence column (the user's status, docs/presence.md) is added to the served markup when it
 * lacks it.
 */
import type { UserProps, UserStatus } from '../client/index.js';
import { statusOf, workgroupIdsOf } from '../client/presence.js';
import { nameOf, text } from './format.js';
import { fillPresenceCell, presenceText, type PresenceView } from './presence.js';

type Column = 'name' | 'extension' | 'presence' | 'status' | 'workgroups';
const COLUMNS: Column[] = ['name', 'extension', 'presence', 'status', 'workgroups'];

/** How a row shows a status (the catalogue's words and group). */
export type PresenceOf = (status: UserStatus | undefined) => PresenceView | undefined;

interface Row {
  tr: HTMLTableRowElement;
  cells: Record<Column, string>;
  /** Lower-cased text searched by the filter. */
  haystack: string;
  /** The ids of the workgroups the user lists. */
  workgroups: string[];
}

/** How long a changed row stays highlighted (the CSS animation of .changed lasts as long). */
export const HIGHLIGHT_MS = 2000;

export class DirectoryTable {
  private readonly rows = new Map<string, Row>();
  /** The rows in display order (sorted); the table body holds them in this order. */
  private order: Row[] = [];
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private sortBy: Column = 'name';
  private descending = false;
  private query = '';
  /** The workgroup rows are restricted to ('' = all). */
  private workgroup = '';
  /** The columns in the order of the header's cells. */
  private readonly columns: Column[];
  private readonly collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

  constructor(
    private readonly table: HTMLTableElement,
    private readonly counter: HTMLElement,
    private readonly presenceOf: PresenceOf = () => undefined,
  ) {
    addPresenceColumn(table);
    this.columns = [...table.tHead!.querySelectorAll<HTMLTableCellElement>('th[data-column]')]
      .map((th) => th.dataset.column as Column)
      .filter((c) => COLUMNS.includes(c));
    for (const th of table.tHead!.querySelectorAll<HTMLTableCellElement>('th[data-column]')) {
      th.querySelector('button')!.addEventListener('click', () => this.sort(th.dataset.column as Column));
    }
    this.markSorted();
  }

  /** Everything anew (a snapshot). */
  replace(users: ReadonlyMap<string, UserProps>): void {
    this.rows.clear();
    for (const [id, user] of users) this.rows.set(id, this.row(id, user));
    this.resort();
  }

  /**
   * One user changed (undefined: removed). Only its row is touched: rewritten in place, or moved to its sorted place
   * when its sort key changed, so a large directory under heavy churn costs one row per change.
   */
  update(id: string, user: UserProps | undefined): void {
    const row = this.rows.get(id);
    if (row && !user) {
      this.order.splice(this.order.indexOf(row), 1);
      row.tr.remove();
      this.rows.delete(id);
      return this.count();
    }
    if (!user) return;
    const next = this.row(id, user, row?.tr);
    this.rows.set(id, next);
    if (!row || row.cells[this.sortBy] !== next.cells[this.sortBy] || row.cells.name !== next.cells.name) {
      if (row) this.order.splice(this.order.indexOf(row), 1);
      const at = this.position(next);
      this.order.splice(at, 0, next);
      this.table.tBodies[0]!.insertBefore(next.tr, this.order[at + 1]?.tr ?? null);
    } else this.order[this.order.indexOf(row)] = next;
    this.highlight(id, next.tr);
    this.count();
  }

  filter(query: string): void {
    this.query = query.trim().toLowerCase();
    this.rematch();
  }

  /** Only the users listing this workgroup ('' = everyone). */
  filterWorkgroup(id: string): void {
    this.workgroup = id;
    this.rematch();
  }

  /** Every row drawn again (the status catalogue arrived or changed): once per load, not per change. */
  redraw(users: ReadonlyMap<string, UserProps>): void {
    for (const [id, row] of this.rows) {
      const user = users.get(id);
      if (user) this.rows.set(id, this.row(id, user, row.tr));
    }
    this.resort();
  }

  private rematch(): void {
    for (const r of this.rows.values()) r.tr.hidden = !this.matches(r);
    this.count();
  }

  sort(column: Column): void {
    this.descending = this.sortBy === column ? !this.descending : false;
    this.sortBy = column;
    this.markSorted();
    this.resort();
  }

  /** A brief highlight (the Web Animations API restarts it without forcing a layout); `.changed` meanwhile. */
  private highlight(id: string, tr: HTMLTableRowElement): void {
    tr.classList.add('changed');
    tr.animate?.([{ backgroundColor: 'var(--hi)' }, { backgroundColor: 'transparent' }], { duration: HIGHLIGHT_MS, easing: 'ease-out' });
    clearTimeout(this.timers.get(id));
    this.timers.set(
      id,
      setTimeout(() => {
        tr.classList.remove('changed');
        this.timers.delete(id);
      }, HIGHLIGHT_MS),
    );
  }

  private row(id: string, user: UserProps, tr = document.createElement('tr')): Row {
    const presence = this.presenceOf(statusOf(user));
    const cells: Record<Column, string> = {
      name: nameOf(id, user),
      extension: text(user.extension),
      presence: presenceText(presence),
      status: text(user.statusText),
      workgroups: text(user.workgroups),
    };
    tr.dataset.id = id;
    tr.replaceChildren(
      ...this.columns.map((c, i) => {
        const cell = document.createElement(i === 0 ? 'th' : 'td');
        if (i === 0) cell.setAttribute('scope', 'row');
        if (c === 'presence') {
          cell.className = 'presence-cell';
          fillPresenceCell(cell, presence);
        } else cell.textContent = cells[c];
        if (i === 0 && cells.name !== id) cell.title = id;
        return cell;
      }),
    );
    const r: Row = { tr, cells, haystack: `${id} ${COLUMNS.map((c) => cells[c]).join(' ')}`.toLowerCase(), workgroups: workgroupIdsOf(user) };
    tr.hidden = !this.matches(r);
    return r;
  }

  private matches(r: Row): boolean {
    return (!this.query || r.haystack.includes(this.query)) && (!this.workgroup || r.workgroups.includes(this.workgroup));
  }

  private compare(a: Row, b: Row): number {
    const col = this.sortBy;
    return (this.descending ? -1 : 1) * (this.collator.compare(a.cells[col], b.cells[col]) || this.collator.compare(a.cells.name, b.cells.name));
  }

  /** Where `row` goes in `order` (binary search). */
  private position(row: Row): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.order[mid]!, row) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private resort(): void {
    this.order = [...this.rows.values()].sort((a, b) => this.compare(a, b));
    this.table.tBodies[0]!.replaceChildren(...this.order.map((r) => r.tr));
    this.count();
  }

  private markSorted(): void {
    for (const th of this.table.tHead!.querySelectorAll<HTMLTableCellElement>('th[data-column]')) {
      th.setAttribute('aria-sort', th.dataset.column === this.sortBy ? (this.descending ? 'descending' : 'ascending') : 'none');
    }
  }

  private count(): void {
    const total = this.rows.size;
    if (!this.query && !this.workgroup) return void (this.counter.textContent = `${total} users`);
    let shown = 0;
    for (const r of this.rows.values()) if (!r.tr.hidden) shown++;
    const inGroup = this.workgroup ? ` in ${this.workgroup}` : '';
    this.counter.textContent = `${shown} of ${total} users${inGroup}${this.query ? ` match “${this.query}”` : ''}`;
  }
}

/**
 * The Presence column, after Extension, when the served markup does not have it: its header (a sort button like the
 * others) and its `<col>`.
 */
function addPresenceColumn(table: HTMLTableElement): void {
  const head = table.tHead!.rows[0]!;
  if (head.querySelector('th[data-column="presence"]')) return;
  const th = document.createElement('th');
  th.scope = 'col';
  th.dataset.column = 'presence';
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Presence';
  th.append(button);
  const after = head.querySelector('th[data-column="extension"]');
  head.insertBefore(th, after?.nextElementSibling ?? null);
  const cols = table.querySelector('colgroup');
  if (cols) cols.append(document.createElement('col'));
}
