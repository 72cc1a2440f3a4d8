/**
 * Who builds the bodies of `GET /v1/users`, and when (README, "HTTP reads": "Reads cannot be turned
 * into a CPU weapon"):
 * - one build per query at a time: requests for a query whose body is waiting for its turn, or being built at
 *   their seq or a later one, share it (single flight), so a burst of identical requests costs one build;
 * - turns: at most http.bodies.maxConcurrentBuilds builds and compressions run at once in a process, the others
 *   wait first come first served, at most http.bodies.maxQueuedBuilds of them (more: BuildsBusy, a 503), so a
 *   hundred different `props` are built one after another, in slices (src/http/users-json.ts), while live changes
 *   keep flowing between the slices.
 */
import type { MirrorHead } from '../mirror/reader.js';
import type { Body, Turn } from './body-cache.js';

export interface BodyBuildLimits {
  /** Body builds and compressions running at once. */
  maxConcurrentBuilds: number;
  /** Builds and compressions waiting for their turn at most; more are refused. */
  maxQueuedBuilds: number;
}

/** Every turn is taken and the queue is full: the request is refused (503) rather than queued without end. */
export class BuildsBusy extends Error {
  override name = 'BuildsBusy';
  constructor(queued: number) {
    super(`${queued} directory bodies are already waiting to be built or compressed`);
  }
}

interface Flight {
  /** Null while waiting for its turn: it will read the mirror after every request that joined it. */
  at: MirrorHead | null;
  body: Promise<Body>;
}

export class BodyBuilds {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** query → its newest build, waiting or running. */
  private readonly flights = new Map<string, Flight>();
  /** Builds begun so far (each one a serialization of what the query selects). */
  builds = 0;
  /** Runs CPU-heavy work (a compression) in a turn of its own. */
  readonly turn: Turn = (work) => this.inTurn(work);

  constructor(private readonly limits: BodyBuildLimits) {}

  /** Builds and compressions waiting for a turn. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * The body of `query` as of `at` or later: shared with a build of it that waits for its turn or runs from `at` on,
   * else built in a turn of its own. `build` tells `begun` where the mirror stands when it starts.
   */
  body(query: string, at: MirrorHead, build: (begun: (at: MirrorHead) => void) => Promise<Body>): Promise<Body> {
    const f = this.flights.get(query);
    if (f && (f.at === null || (f.at.epoch === at.epoch && f.at.seq >= at.seq))) return f.body;
    const flight: Flight = { at: null, body: Promise.resolve(undefined as unknown as Body) };
    flight.body = this.inTurn(() => {
      this.builds++;
      return build((begun) => (flight.at = begun));
    }).finally(() => {
      if (this.flights.get(query) === flight) this.flights.delete(query);
    });
    this.flights.set(query, flight);
    return flight.body;
  }

  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.limits.maxConcurrentBuilds) this.running++;
    else {
      if (this.waiting.length >= this.limits.maxQueuedBuilds) throw new BuildsBusy(this.waiting.length);
      await new Promise<void>((resolve) => this.waiting.push(resolve)); // the turn is handed over, still counted
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
