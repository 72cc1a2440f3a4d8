/** Digests of text, for equality checks without keeping the text (the mirror's memory: docs/architecture.md). */
import { hash } from 'node:crypto';

/** UTF-8 of the text being digested, read 32 bits at a time (one native encode, then word reads in the JIT). */
const scratch = new Uint8Array(1 << 16);
const words = new Int32Array(scratch.buffer);
const encoder = new TextEncoder();

/**
 * A 53-bit digest of a short text (cyrb53's two 32-bit multiply-xorshift lanes, over the text's UTF-8 four bytes at a
 * time, seeded with its byte length): what the writer keeps of each property's JSON in memory instead of its value,
 * since "did it change" only needs equality. Two different texts share a digest with a chance of about 2^-53.
 * In-memory only (never stored), so the function may change between versions. The texts are JSON (JSON.stringify
 * escapes lone surrogates), so UTF-8 tells any two of them apart.
 */
export function digestOf(json: string): number {
  // A text that might not fit the scratch buffer (3 bytes per UTF-16 unit at most) is read unit by unit instead.
  if (json.length * 3 + 3 > scratch.length) return digestOfUnits(json);
  const n = encoder.encodeInto(json, scratch).written;
  // The last word's bytes past the text are zero; the length seed tells "a" from "a\u0000".
  scratch[n] = 0;
  scratch[n + 1] = 0;
  scratch[n + 2] = 0;
  let h1 = 0xdeadbeef ^ n;
  let h2 = 0x41c6ce57;
  for (let i = 0, w = (n + 3) >> 2; i < w; i++) {
    const c = words[i]!;
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  return finish(h1, h2);
}

/** The same digest's lanes fed two UTF-16 units at a time: texts longer than the scratch buffer (rare). */
function digestOfUnits(json: string): number {
  let h1 = 0xdeadbeef ^ json.length;
  let h2 = 0x41c6ce57;
  for (let i = 0, n = json.length; i < n; i += 2) {
    // Past the end charCodeAt gives NaN, which `<<` makes 0.
    const c = json.charCodeAt(i) | (json.charCodeAt(i + 1) << 16);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  return finish(h1, h2);
}

function finish(h1: number, h2: number): number {
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
