/** What the live page shows of presence, read from its DOM: a row's presence cell and the workgroups panel. */
import type { Page } from 'playwright-core';

/** What a row's presence cell shows: the text, the colour group, the markers. */
export const presenceOf = (p: Page, id: string) =>
  p.evaluate((rowId) => {
    const cell = document.querySelector(`#directory tbody tr[data-id="${CSS.escape(rowId)}"] .presence-cell`);
    const badge = cell?.querySelector<HTMLElement>('.presence');
    return {
      text: badge?.textContent ?? null,
      group: badge?.dataset.group ?? null,
      available: !!cell?.querySelector('.presence-available'),
      colour: badge ? getComputedStyle(badge).color : null,
    };
  }, id);

/** The workgroups panel's rows. */
export const panel = (p: Page) =>
  // No functions declared inside: the page runs this as it is, without the helpers tsx adds for named functions.
  p.$$eval('#workgroups tbody tr', (rows) =>
    rows.map((r) => ({
      id: (r as HTMLElement).dataset.id!,
      agents: Number(r.querySelector('td[data-count="agents"]')?.textContent),
      loggedIn: Number(r.querySelector('td[data-count="loggedIn"]')?.textContent),
      available: Number(r.querySelector('td[data-count="available"]')?.textContent),
      onPhone: Number(r.querySelector('td[data-count="onPhone"]')?.textContent),
    })),
  );
