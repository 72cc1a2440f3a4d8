/**
 * Response bodies of the HTTP reads, built once per (seq, query) and shared by every request for them: the JSON
 * is serialized once, and each encoding (gzip, br) is compressed once, off the event loop (zlib's thread pool),
 * when first asked for. Bounded in entries and in bytes; the oldest entries go first.
 */
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

export type Encoding = 'br' | 'gzip' | 'identity';

export interface BodyCacheLimits {
  /** Bodies kept at most. */
  maxBodies: number;
  /** Bytes kept at most (JSON and its compressed forms). */
  maxBytes: number;
  /** Bodies smaller than this are sent as they are: compressing them saves nothing. */
  minCompressBytes: number;
}

const compressors: Record<Exclude<Encoding, 'identity'>, (b: Buffer) => Promise<Buffer>> = {
  gzip: (b) => promisify(gzip)(b, { level: 6 }),
  // Quality 5 compresses a large directory several times faster than the default 11, at a few percent in size.
  br: (b) => promisify(brotliCompress)(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: b.length } }),
};

export class Body {
  private readonly encoded = new Map<Encoding, Promise<Buffer>>();
  bytes: number;

  constructor(
    readonly json: Buffer,
    readonly etag: string,
    private readonly onGrow: (bytes: number) => void,
  ) {
    this.bytes = json.length;
  }

  /** The body in `encoding` (compressed once; later requests share it). */
  encode(encoding: Encoding): Promise<Buffer> {
    if (encoding === 'identity') return Promise.resolve(this.json);
    let p = this.encoded.get(encoding);
    if (!p) {
      p = compressors[encoding](this.json).then((b) => {
        this.bytes += b.length;
        this.onGrow(b.length);
        return b;
      });
      this.encoded.set(encoding, p);
    }
    return p;
  }
}

export class BodyCache {
  private readonly bodies = new Map<string, Body>();
  private bytes = 0;
  /** Bodies serialized so far (each one a JSON.stringify of what it holds). */
  builds = 0;

  constructor(readonly limits: BodyCacheLimits) {}

  /** The body for `key`, built by `build` when it is not cached. */
  get(key: string, etag: string, build: () => unknown): Body {
    let body = this.bodies.get(key);
    if (body) {
      this.bodies.delete(key); // most recently used last
      this.bodies.set(key, body);
      return body;
    }
    this.builds++;
    const built: Body = new Body(Buffer.from(JSON.stringify(build())), etag, (n) => {
      if (this.bodies.get(key) !== built) return; // evicted while compressing: no longer counted
      this.bytes += n;
      this.evict();
    });
    body = built;
    this.bodies.set(key, body);
    this.bytes += body.bytes;
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
      if (this.bodies.size <= this.limits.maxBodies && this.bytes <= this.limits.maxBytes) return;
      if (this.bodies.size === 1) return; // the one just built is being sent
      this.bodies.delete(key);
      this.bytes -= body.bytes;
    }
  }
}
