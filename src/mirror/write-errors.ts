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

/**
 * What Redis said when it answered a write with an error (NOPERM from an ACL, WRONGTYPE, OOM…), for /readyz and the
 * logs: "Redis refused the write: …". Undefined for anything else (a connection that failed, a timeout).
 */
export function refusedWrite(err: unknown): string | undefined {
  if (!(err instanceof Error) || err.name !== 'ReplyError') return undefined;
  // Redis 7.2 says NOPERM inside a script too; 7.0 only "ERR The user executing the script can't run this command".
  const acl = !err.message.startsWith('NOPERM') && ACL_DENIED_IN_SCRIPT.test(err.message);
  return `Redis refused the write: ${acl ? `NOPERM (an ACL denies a command the mirror's script runs) ${err.message}` : err.message}`;
}

const ACL_DENIED_IN_SCRIPT = /can't run this command/;
