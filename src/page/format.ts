/// <reference lib="dom" />
/**
 * Property values as text for people, whatever their shape: ICWS sends strings, lists of ConfigurationIds
 * ({id, displayName, uri}), and objects whose shape varies by server version; the page never assumes one.
 */
import type { UserProps } from '../client/index.js';

export function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(text).filter(Boolean).join(', ');
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.displayName === 'string' && o.displayName) return o.displayName;
    if (typeof o.id === 'string') return o.id;
    return JSON.stringify(value);
  }
  return typeof value === 'bigint' || typeof value === 'symbol' ? value.toString() : '';
}

/** A user's name: its configurationId's displayName, else given name and surname, else its id. */
export function nameOf(id: string, user: UserProps): string {
  const cid = user.configurationId as { displayName?: unknown } | undefined;
  if (cid && typeof cid.displayName === 'string' && cid.displayName) return cid.displayName;
  const pip = user.personalInformationProperties as { givenName?: unknown; surname?: unknown } | undefined;
  const full = [pip?.givenName, pip?.surname].filter((v) => typeof v === 'string' && v).join(' ');
  return full || id;
}

export const ms = (seconds: number | undefined): string =>
  seconds === undefined || !Number.isFinite(seconds) ? '—' : `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms`;
