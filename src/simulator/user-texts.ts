/**
 * Each user's JSON as a subscription sees it (its properties), kept until the user changes, so that a full replace
 * of a big directory is mostly cached text (as a server's own cache would make it) and the simulator is not what a
 * benchmark of icwatch measures. Texts are filled in while a full replace is written, and only when the user has not
 * changed since the replace was queued: a cached text is always the user as it is now.
 */
import type { User } from '../icws/messages.js';
import type { Directory, DirectoryDelta } from './directory.js';

/** A user of a queued full replace: its cached text, or its projection as queued (encoded when written). */
export type ReplaceItem = string | { id: string; version: number; user: User };

export class UserTexts {
  /** view (the subscribed properties) → user id → text. */
  private readonly byView = new Map<string, Map<string, string>>();
  /** user id → changes seen (absent: none), so that a text encoded late is cached only if still current. */
  private readonly versions = new Map<string, number>();

  constructor(directory: Directory) {
    directory.onDelta((delta) => this.changed(delta));
  }

  /** What a full replace queued now carries for `id`: the cached text, or the projection to encode later. */
  item(view: string, id: string, project: () => User): ReplaceItem {
    return this.byView.get(view)?.get(id) ?? { id, version: this.versions.get(id) ?? 0, user: project() };
  }

  /** The text of an item as it is written (caching what is still current). */
  encode(view: string, item: ReplaceItem): string {
    if (typeof item === 'string') return item;
    const text = JSON.stringify(item.user);
    if ((this.versions.get(item.id) ?? 0) === item.version) {
      let texts = this.byView.get(view);
      if (!texts) this.byView.set(view, (texts = new Map<string, string>()));
      texts.set(item.id, text);
    }
    return text;
  }

  private changed(delta: DirectoryDelta): void {
    const ids = [...(delta.added ?? []).map((u) => u.configurationId.id), ...(delta.changed ?? []).map((u) => u.configurationId.id), ...(delta.removed ?? [])];
    for (const id of ids) {
      this.versions.set(id, (this.versions.get(id) ?? 0) + 1);
      for (const texts of this.byView.values()) texts.delete(id);
    }
  }
}
