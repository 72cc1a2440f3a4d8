/// <reference lib="dom" />
/**
 * Presence on the page (docs/presence.md): a user's status as people read it, from the status catalogue
 * (`GET /v1/statuses`: statusId → messageText, groupTag; ids compared without regard to case), coloured by its group,
 * with a marker when the server says the user is available (`status.available`: the page never derives it). When the
 * catalogue cannot be read (an older icwatch, a token that may not read it, a network error) a status shows its
 * statusId, uncoloured, and the page asks again later.
 */
import type { UserStatus } from '../client/index.js';

/** The colour groups; any other groupTag (or none known) is `other`. */
export type PresenceGroup = 'available' | 'break' | 'followup' | 'training' | 'unavailable' | 'other';
const GROUPS: Record<string, PresenceGroup> = {
  AVAILABLE: 'available',
  BREAK: 'break',
  FOLLOWUP: 'followup',
  TRAINING: 'training',
  UNAVAILABLE: 'unavailable',
};

export interface CatalogueEntry {
  statusId: string;
  messageText?: string;
  groupTag?: string;
}

/** What a row shows of a status. */
export interface PresenceView {
  text: string;
  group: PresenceGroup;
  available: boolean;
  onPhone: boolean;
  /** More words for a tooltip: the status id and group, the notes. */
  detail: string;
}

/** How long the page waits before asking for the catalogue again after a failure or a status it does not list. */
export const CATALOGUE_RETRY_MS = 30000;

export type GetJson = (path: string) => Promise<unknown>;

/** The status catalogue, loaded from `GET /v1/statuses`; `changed` is called after each load that succeeded. */
export class StatusCatalogue {
  private entries = new Map<string, CatalogueEntry>();
  private loading: Promise<void> | null = null;
  private lastTry = -Infinity;
  /** The text of the last catalogue loaded: a load that finds it unchanged redraws nothing. */
  private lastText = '';
  /** Whether a load succeeded at least once. */
  loaded = false;
  /** Why the last load failed, if it did. */
  problem: string | undefined;

  constructor(
    private readonly getJson: GetJson,
    private readonly changed: () => void,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Loads the catalogue (once at a time). */
  load(): Promise<void> {
    this.lastTry = this.now();
    this.loading ??= this.getJson('/v1/statuses')
      .then((body) => {
        const list = (body as { statuses?: unknown } | null)?.statuses;
        if (!Array.isArray(list)) throw new Error('the answer has no statuses');
        this.loaded = true;
        this.problem = undefined;
        const text = JSON.stringify(list);
        if (text === this.lastText) return;
        this.lastText = text;
        const entries = new Map<string, CatalogueEntry>();
        for (const e of list as unknown[]) {
          const entry = e as Partial<CatalogueEntry> | null;
          if (entry && typeof entry.statusId === 'string') entries.set(entry.statusId.toLowerCase(), entry as CatalogueEntry);
        }
        this.entries = entries;
        this.changed();
      })
      .catch((err: unknown) => {
        this.problem = (err as Error).message;
      })
      .finally(() => (this.loading = null));
    return this.loading;
  }

  /** The entry of `statusId`; an id it does not know asks for the catalogue again (at most every CATALOGUE_RETRY_MS). */
  entry(statusId: string): CatalogueEntry | undefined {
    const e = this.entries.get(statusId.toLowerCase());
    if (!e && this.now() - this.lastTry >= CATALOGUE_RETRY_MS) void this.load();
    return e;
  }

  view(status: UserStatus | undefined): PresenceView | undefined {
    if (!status || typeof status.statusId !== 'string') return undefined;
    const entry = this.entry(status.statusId);
    const text = typeof entry?.messageText === 'string' && entry.messageText ? entry.messageText : status.statusId;
    const group = GROUPS[(entry?.groupTag ?? '').toUpperCase()] ?? 'other';
    const notes = typeof status.notes === 'string' && status.notes ? ` — ${status.notes}` : '';
    return {
      text,
      group,
      available: status.available === true,
      onPhone: status.onPhone === true,
      detail: `${status.statusId}${entry?.groupTag ? ` (${entry.groupTag})` : ''}${status.loggedIn === false ? ', logged out' : ''}${notes}`,
    };
  }
}

/** The text a presence cell is sorted and searched by. */
export function presenceText(view: PresenceView | undefined): string {
  if (!view) return '';
  return `${view.text}${view.available ? ' available' : ''}${view.onPhone ? ' on the phone' : ''}`;
}

/** Fills a cell with a status: its text coloured by group, then the available and on-the-phone markers. */
export function fillPresenceCell(cell: HTMLElement, view: PresenceView | undefined): void {
  if (!view) return void cell.replaceChildren();
  const badge = document.createElement('span');
  badge.className = 'presence';
  badge.dataset.group = view.group;
  badge.title = view.detail;
  const dot = document.createElement('span');
  dot.className = 'presence-dot';
  dot.setAttribute('aria-hidden', 'true');
  badge.append(dot, view.text);
  const parts: Node[] = [badge];
  if (view.available) parts.push(marker('presence-available', 'available'));
  if (view.onPhone) parts.push(marker('presence-phone', 'on the phone'));
  cell.replaceChildren(...parts);
}

function marker(className: string, words: string): HTMLElement {
  const m = document.createElement('span');
  m.className = className;
  m.textContent = words;
  return m;
}
