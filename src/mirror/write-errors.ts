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
