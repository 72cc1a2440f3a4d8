/** Digests of text, for equality checks without keeping the text (the mirror's memory: docs/architecture.md). */
import { hash } from 'node:crypto';

/**
 * A 53-bit digest of a short text (cyrb53: two 32-bit multiply-xorshift lanes, fed two UTF-16 units at a time,
 * seeded with the length): what the writer keeps of each property's JSON in memory instead of its value, since "did
 * it change" only needs equality. Two different texts share a digest with a chance of about 2^-53.
 */
export function digestOf(json: string): number {
  let h1 = 0xdeadbeef ^ json.length;
  let h2 = 0x41c6ce57;
  const n = json.length;
  for (let i = 0; i < n; i += 2) {
    // Past the end charCodeAt gives NaN, which `<<` makes 0 (the length seed tells "a" from "a\u0000").
    const c = json.charCodeAt(i) | (json.charCodeAt(i + 1) << 16);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * 52 bits of the MD5 of a longer text, such as a whole user as a full replace carried it (no security use: equality
 * only). Native, about twice as fast as digestOf on texts of that size; a re-sync digests the whole directory.
 */
export function textDigest(text: string): number {
  const h = hash('md5', text, 'buffer');
  return h.readUInt32LE(0) + (h.readUInt32LE(4) & 0xfffff) * 4294967296;
}
