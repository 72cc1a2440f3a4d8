/**
 * Response bodies of the HTTP reads, kept per (seq, query) and shared by every request for them: the JSON is
 * serialized once (src/http/body-builds.ts), and each encoding (gzip, br) is compressed once, when first asked for,
 * by zlib's asynchronous API: it compresses in libuv's thread pool, the event loop only hands chunks over.
 * Bounded in bodies and in bytes (http.bodies.maxEntries, http.bodies.maxBytes); the least recently used go first.
 */
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { MirrorHead } from '../mirror/reader.js';

export type Encoding = 'br' | 'gzip' | 'identity';

export interface BodyCacheLimits {
  /** Bodies kept at most. */
  maxEntries: number;
  /** Bytes kept at most (JSON and its compressed forms); a single body larger than this is kept alone. */
  maxBytes: number;
}

/** Runs a piece of CPU-heavy work when its turn comes (src/http/body-builds.ts). */
export type Turn = <T>(work: () => Promise<T>) => Promise<T>;

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

const compressors: Record<Exclude<Encoding, 'identity'>, (b: Buffer) => Promise<Buffer>> = {
  gzip: (b) => gzipAsync(b, { level: 6 }),
  // Quality 5 compresses a large directory several times faster than the default 11, at a few percent in size.
  br: (b) => brotliAsync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: b.length } }),
};

/** The ETag of the mirror at `head`: "<epoch>:<seq>". */
export const etagOf = (head: MirrorHead): string => `"${head.epoch ?? ''}:${head.seq}"`;

export class Body {
  private readonly encoded = new Map<Encoding, Promise<Buffer>>();
  bytes: number;
  /** Told of the bytes each new encoding adds (the cache holding the body counts them). */
  onGrow: (bytes: number) => void = () => {};

  readonly etag: string;

  constructor(
    readonly json: Buffer,
    /** The mirror as of which the body answers (its X-Icwatch-Seq). */
    readonly head: MirrorHead,
  ) {
    this.bytes = json.length;
    this.etag = etagOf(head);
  }

  /** The body in `encoding`: compressed once, in its `turn`; requests meanwhile share it. */
  encode(encoding: Encoding, turn: Turn): Promise<Buffer> {
    if (encoding === 'identity') return Promise.resolve(this.json);
    let p = this.encoded.get(encoding);
    if (!p) {
      p = turn(() => compressors[encoding](this.json)).then(
        (b) => {
          this.bytes += b.length;
          this.onGrow(b.length);
          return b;
        },
        (err: unknown) => {
          this.encoded.delete(encoding); // not compressed (no turn): a later request tries again
          throw err;
        },
      );
      this.encoded.set(encoding, p);
    }
    return p;
  }
}

export class BodyCache {
  private readonly bodies = new Map<string, Body>();
  private held = 0;
  /** Bodies dropped to stay within the bounds so far. */
  evictions = 0;

  constructor(readonly limits: BodyCacheLimits) {}

  /** Bodies kept. */
  get size(): number {
    return this.bodies.size;
  }

  /** Bytes kept. */
  get bytes(): number {
    return this.held;
  }

  /** The body kept under `key` (now the most recently used), or undefined. */
  get(key: string): Body | undefined {
    const body = this.bodies.get(key);
    if (body) {
      this.bodies.delete(key); // most recently used last
      this.bodies.set(key, body);
    }
    return body;
  }

  /** Keeps `body` under `key` as the most recently used; the least recently used go while the bounds are passed. */
  put(key: string, body: Body): Body {
    const old = this.bodies.get(key);
    if (old) {
      this.bodies.delete(key);
      this.held -= old.bytes;
    }
    body.onGrow = (n) => {
      if (this.bodies.get(key) !== body) return; // evicted while compressing: no longer counted
      this.held += n;
      this.evict();
    };
    this.bodies.set(key, body);
    this.held += body.bytes;
    this.evict();
    return body;
  }

  /** What a client accepts, best first: br, then gzip, else identity (RFC 9110 §12.5.3, q=0 = not acceptable). */
  static choose(acceptEncoding: string | undefined, size: number, minBytes: number): Encoding {
    if (!acceptEncoding || size < minBytes) return 'identity';
    const q = new Map<string, number>();
    for (const part of acceptEncoding.split(',')) {
      const [name, ...params] = part.trim().toLowerCase().split(';');
      const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      q.set(name!, qp ? Number(qp.slice(2)) || 0 : 1);
    }
    const accepts = (e: string) => (q.get(e) ?? q.get('*') ?? 0) > 0;
    return accepts('br') ? 'br' : accepts('gzip') ? 'gzip' : 'identity';
  }

  private evict(): void {
    for (const [key, body] of this.bodies) {
      if (this.bodies.size <= this.limits.maxEntries && this.held <= this.limits.maxBytes) return;
      if (this.bodies.size === 1) return; // the most recent one stays, whatever its size: it is being sent
      this.bodies.delete(key);
      this.held -= body.bytes;
      this.evictions++;
    }
  }
}
