/**
 * Why a write of the mirror did not land, as the pipeline's retry needs to know it: Redis did not answer (back off,
 * then reload and write again) or meta moved under the writer (reload and write again at once). Any other error
 * from the writer is a bug and is not retried.
 */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  constructor(
    readonly what: string,
    override readonly cause: unknown,
  ) {
    super(`Redis unavailable while ${what}: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

export class MirrorMovedError extends Error {
  override readonly name = 'MirrorMovedError';
}

/**
 * High availability: the write carried a fence that is no longer meta's (another replica took the lease over).
 * Never retried: this writer's term is over (src/ha steps down).
 */
export class MirrorFencedError extends Error {
  override readonly name = 'MirrorFencedError';
  constructor(
    readonly fence: number | undefined,
    /** meta's fence now ('' when meta is gone). */
    readonly currentFence: string,
  ) {
    super(`write refused: fence ${fence} is no longer current (meta fence ${currentFence || 'missing'}); another replica leads the mirror now`);
  }
}
