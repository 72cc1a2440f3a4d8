/**
 * HTTP reads of the directory (the README's "HTTP reads"), beside the WebSocket on its path:
 *   GET /v1/users[?ids=a,b][&props=p,q]   {"epoch","seq","users":[…]}: the mirror as of seq, one consistent picture
 *   GET /v1/users?<indexed>=<value>       the users the mirror's index of <indexed> names for value
 *   GET /v1/users/<id>                    {"id",…props}, X-Icwatch-Seq; 404 when absent
 * and beside that path (docs/presence.md, "For readers"):
 *   GET /v1/workgroups                    {"epoch","seq","workgroups":[{id, agents, loggedIn, available, onPhone}]}
 *   GET /v1/workgroups/<id>[?props=p,q]   {"epoch","seq","id","agents":[…]}; 404 when nobody belongs to it
 *   GET /v1/statuses                      {"statuses":[…]}: the status catalogue (presence)
 * ETag "<epoch>:<seq>" (If-None-Match → 304), compressed per Accept-Encoding. A client may resume the WebSocket
 * with since=<seq>&epoch=<epoch> of such an answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pickProps, propsKey } from '../fanout/frames.js';
import { MirroredProps } from '../fanout/mirrored-props.js';
import { FANOUT_LIMITS } from '../fanout/options.js';
import { AccessDoor, type SitePolicy, type TokenSpec } from '../fanout/access.js';
import type { Refusal } from '../fanout/request.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { MirrorReader, type MirrorHead, type PresenceReadOptions, type RedisClient, type UserProps } from '../mirror/reader.js';
import { STATUS } from '../mirror/status-reads.js';
import { BodyBuilds, BuildsBusy, type BodyBuildLimits } from './body-builds.js';
import { Body, BodyCache, etagOf, type BodyCacheLimits } from './body-cache.js';
import { directoryJson, usersListJson } from './users-json.js';
import { parsePresenceQuery, parseUsersQuery, type PresenceQuery, type UsersQuery } from './users-query.js';
import { UsersView, type ViewLimits, type ViewState } from './users-view.js';
import { indexWorkgroups, WORKGROUPS, type WorkgroupIndex } from './workgroups.js';

export interface UsersReadsOptions {
  redis: RedisClient;
  keyPrefix: string;
  /** websocket.path: the reads answer on it and below it. */
  path: string;
  tokens: readonly TokenSpec[];
  /** Origin and Host checks (http.allowedOrigins, http.allowedHosts, whether http.host is loopback). */
  site?: Partial<SitePolicy>;
  /** subscription.properties: what the mirror holds, so what `props` may name. */
  properties: readonly string[];
  /** presence.*: users come with `status`, and GET /v1/statuses answers; absent = off. */
  presence?: PresenceReadOptions;
  indexedProperties: readonly string[];
  logger: Logger;
  /** icwatch_http_body_builds_total is counted there. */
  metrics?: Metrics;
  /** http.bodies.* and the internal bounds (READ_LIMITS). */
  limits?: Partial<ReadLimits>;
}

export interface BodyLimits {
  /** Bodies smaller than this are sent as they are: compressing them saves nothing. */
  minCompressBytes: number;
  /** A body build serializes users for at most this long before other work gets the event loop. */
  buildSliceMs: number;
}

export type ReadLimits = ViewLimits & BodyCacheLimits & BodyBuildLimits & BodyLimits;

export const READ_LIMITS: ReadLimits = {
  loadChunkUsers: 500,
  pageEntries: 1000,
  maxCatchUpEntries: 10000,
  maxLoadAttempts: 5,
  idleDropMs: 5 * 60_000,
  maxEntries: 16,
  maxBytes: 64 * 1024 * 1024,
  maxConcurrentBuilds: 1,
  maxQueuedBuilds: 256,
  minCompressBytes: 1024,
  buildSliceMs: 5,
};

/** Queries whose last body size is remembered. */
const LAST_SIZES = 1024;

export class UsersReads {
  readonly door: AccessDoor;
  readonly view: UsersView;
  readonly bodies: BodyCache;
  readonly builds: BodyBuilds;
  private readonly mirrored: MirroredProps;
  /** query → the size of its last body: the next one is about as large (users-json.ts allocates it once). */
  private readonly lastSize = new Map<string, number>();
  private readonly reader: MirrorReader;
  private readonly limits: ReadLimits;
  /** The workgroup and status reads' paths: beside the users' (`/v1/workgroups` beside `/v1/users`). */
  readonly workgroupsPath: string;
  readonly statusesPath: string;
  /**
   * The newest workgroup index, built or waiting for its turn; held by the view's state, so that it goes when the
   * view drops it.
   */
  private readonly workgroupIndexes = new WeakMap<ViewState, IndexFlight>();

  constructor(private readonly options: UsersReadsOptions) {
    this.limits = { ...READ_LIMITS, ...options.limits };
    this.reader = new MirrorReader(options.redis, options.keyPrefix, { presence: options.presence });
    this.door = new AccessDoor(options.tokens, options.site);
    this.mirrored = new MirroredProps(options.properties, { status: this.reader.presence });
    const parent = options.path.slice(0, options.path.lastIndexOf('/'));
    this.workgroupsPath = `${parent}/workgroups`;
    this.statusesPath = `${parent}/statuses`;
    this.bodies = new BodyCache(this.limits);
    this.builds = new BodyBuilds(this.limits);
    this.view = new UsersView(this.reader, this.limits, (err, id) =>
      options.logger.error('skipping a change entry that cannot be decoded', { entry: id, error: err.message }),
    );
  }

  /** Whether `path` is one of the reads' (the WebSocket path or below it, the workgroups or below, the statuses). */
  serves(path: string): boolean {
    return under(path, this.options.path) || under(path, this.workgroupsPath) || path === this.statusesPath;
  }

  /** The reads' paths, for the list of endpoints a 404 gives. */
  get paths(): string[] {
    return [this.options.path, this.workgroupsPath, ...(this.reader.presence ? [this.statusesPath] : [])];
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === this.statusesPath) return this.answer(res, () => this.statuses(req, res));
    const base = under(path, this.workgroupsPath) ? this.workgroupsPath : this.options.path;
    const what = base === this.workgroupsPath ? 'workgroup' : 'user';
    let id: string | null = null;
    if (path !== base) {
      try {
        id = decodeURIComponent(path.slice(base.length + 1));
      } catch {
        return sendRefusal(res, {
          status: 400,
          error: `the ${what} id in the path is not valid percent-encoding`,
          parameter: 'id',
          expected: `${base}/<url-encoded ${what} id>`,
        });
      }
      if (!id || id.includes('/') || id.length > FANOUT_LIMITS.maxIdLength) {
        return sendRefusal(res, {
          status: 404,
          error: `no such resource: ${path.slice(0, 100)}`,
          expected: `${base} or ${base}/<${what} id> (at most ${FANOUT_LIMITS.maxIdLength} characters)`,
        });
      }
    }
    if (base === this.workgroupsPath) {
      const q = parsePresenceQuery(req, this.door, FANOUT_LIMITS, this.mirrored, {
        read: `GET ${path === base ? base : `${base}/<id>`}`,
        props: id !== null,
        // The figures count who is logged in, available, on the phone: the users' status; the agents are scoped.
        needs: id === null && this.reader.presence ? [WORKGROUPS, STATUS] : [WORKGROUPS],
      });
      if ('status' in q) return sendRefusal(res, q);
      return this.answer(res, () => (id === null ? this.workgroups(req, res) : this.workgroup(req, res, id, q)));
    }
    const q = parseUsersQuery(req, this.door, FANOUT_LIMITS, this.mirrored, this.options.indexedProperties, id !== null);
    if ('status' in q) return sendRefusal(res, q);
    return this.answer(res, () => {
      if (id !== null) return this.one(req, res, id, q);
      if (q.lookup) return this.lookup(req, res, q);
      return this.list(req, res, q);
    });
  }

  /** Runs a read; a busy turn or a mirror that cannot be read becomes a 503 (the client may retry). */
  private async answer(res: ServerResponse, read: () => Promise<void>): Promise<void> {
    try {
      return await read();
    } catch (err) {
      if (err instanceof BuildsBusy && !res.headersSent)
        return sendRefusal(res, { status: 503, error: `too busy building bodies: ${err.message}`, expected: 'a retry after a moment' });
      // Redis away (or a read that kept racing a restart of the mirror): the client may retry; nothing is wrong with its request.
      if (res.headersSent) throw err;
      this.options.logger.warn('an HTTP read of the mirror failed', { error: (err as Error).message });
      return sendRefusal(res, { status: 503, error: `the mirror cannot be read right now: ${(err as Error).message}`, expected: 'a retry after a moment' });
    }
  }

  close(): void {
    this.view.close();
  }

  /** GET /v1/users[?ids][&props]: from the view, one body per (seq, filters), built once (src/http/body-builds.ts). */
  private async list(req: IncomingMessage, res: ServerResponse, q: UsersQuery): Promise<void> {
    const inm = req.headers['if-none-match'];
    const head = await this.view.head();
    if (matches(inm, etagOf(head))) return notModified(res, head);
    const state = await this.view.current();
    const at: MirrorHead = { epoch: state.epoch, seq: state.seq }; // the view moves on in place at its next catch-up
    if (matches(inm, etagOf(at))) return notModified(res, at);
    const query = `${q.ids ? [...q.ids].join(',') : '*'}|${propsKey(q.props)}`;
    const body = this.bodies.get(`${etagOf(at)}|${query}`) ?? (await this.builds.body(query, at, (begun) => this.build(query, q, begun)));
    return this.send(req, res, body);
  }

  /** The body of `query` as of the view's seq when its turn came. */
  private async build(query: string, q: UsersQuery, begun: (at: MirrorHead) => void): Promise<Body> {
    const state = await this.view.current();
    // Taken at once, before any await: the view moves on at its next catch-up (but never changes a user's
    // properties in place, so the objects taken here stay as of `at` while the JSON is built in slices).
    const at: MirrorHead = { epoch: state.epoch, seq: state.seq };
    begun(at);
    const ids: string[] = [];
    const users: UserProps[] = [];
    const take = (id: string, props: UserProps | undefined) => {
      if (!props) return;
      ids.push(id);
      users.push(props);
    };
    if (q.ids) for (const id of q.ids) take(id, state.users.get(id));
    else for (const [id, props] of state.users) take(id, props);
    this.options.metrics?.httpBodyBuilds.inc();
    const json = await directoryJson({ ...at, ids, users }, q.props, this.limits.buildSliceMs, this.lastSize.get(query));
    return this.keep(query, at, json);
  }

  /** A built body, kept for the requests after it; its size is remembered as the next one's guess. */
  private keep(query: string, at: MirrorHead, json: Buffer): Body {
    this.lastSize.delete(query);
    this.lastSize.set(query, json.length);
    if (this.lastSize.size > LAST_SIZES) this.lastSize.delete(this.lastSize.keys().next().value!);
    return this.bodies.put(`${etagOf(at)}|${query}`, new Body(json, at));
  }

  /**
   * The workgroups as of the view's current seq or later, or null when If-None-Match holds that seq (then 304 is
   * answered). Indexed in a turn of the body builds (it reads every user), as the bodies are: requests share the
   * index of their seq or a later one, or the one waiting for its turn (it reads the view when the turn comes).
   */
  private async workgroupsNow(req: IncomingMessage, res: ServerResponse): Promise<WorkgroupIndex | null> {
    const inm = req.headers['if-none-match'];
    const head = await this.view.head();
    if (matches(inm, etagOf(head))) {
      notModified(res, head);
      return null;
    }
    const state = await this.view.current();
    const at: MirrorHead = { epoch: state.epoch, seq: state.seq };
    if (matches(inm, etagOf(at))) {
      notModified(res, at);
      return null;
    }
    const held = this.workgroupIndexes.get(state);
    if (held && (held.at === null || (held.at.epoch === at.epoch && held.at.seq >= at.seq))) return held.index;
    const flight: IndexFlight = { at: null, index: Promise.resolve(null as unknown as WorkgroupIndex) };
    flight.index = this.builds.turn(async () => {
      const now = await this.view.current();
      // Taken at once, before any await: the view's map moves on in place, its users do not.
      flight.at = { epoch: now.epoch, seq: now.seq };
      return indexWorkgroups(flight.at, [...now.users], this.limits.buildSliceMs);
    });
    this.workgroupIndexes.set(state, flight);
    flight.index.catch(() => {
      if (this.workgroupIndexes.get(state) === flight) this.workgroupIndexes.delete(state); // not built (too busy): the next request tries again
    });
    return flight.index;
  }

  /** GET /v1/workgroups: each workgroup's agents and how many of them are logged in, available, on the phone. */
  private async workgroups(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const index = await this.workgroupsNow(req, res);
    if (!index) return;
    const { at, figures } = index;
    const query = 'workgroups';
    const body =
      this.bodies.get(`${etagOf(at)}|${query}`) ?? this.keep(query, at, Buffer.from(JSON.stringify({ epoch: at.epoch, seq: at.seq, workgroups: figures })));
    return this.send(req, res, body);
  }

  /** GET /v1/workgroups/<id>[?props]: its agents as of one seq, with their status; 404 when nobody belongs to it. */
  private async workgroup(req: IncomingMessage, res: ServerResponse, id: string, q: PresenceQuery): Promise<void> {
    const index = await this.workgroupsNow(req, res);
    if (!index) return;
    const { at, agents } = index;
    const members = agents.get(id);
    if (!members)
      return sendRefusal(
        res,
        { status: 404, error: `no user belongs to workgroup "${id.slice(0, 100)}"`, parameter: 'id', expected: 'the id of a workgroup some user belongs to' },
        at,
      );
    const query = `workgroup:${id}|${propsKey(q.props)}`;
    const key = `${etagOf(at)}|${query}`;
    // Built in a turn, at the index's seq: requests for the same body that waited meanwhile find it kept.
    const body =
      this.bodies.get(key) ??
      (await this.builds.turn(async () => {
        const built = this.bodies.get(key);
        if (built) return built;
        this.options.metrics?.httpBodyBuilds.inc();
        const opening = `{"epoch":${JSON.stringify(at.epoch)},"seq":${at.seq},"id":${JSON.stringify(id)},"agents":[`;
        return this.keep(query, at, await usersListJson(opening, members, q.props, this.limits.buildSliceMs, this.lastSize.get(query)));
      }));
    return this.send(req, res, body);
  }

  /** GET /v1/statuses: the status catalogue, with the head it was read at; 404 without presence. */
  private async statuses(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const q = parsePresenceQuery(req, this.door, FANOUT_LIMITS, this.mirrored, { read: `GET ${this.statusesPath}`, props: false, needs: [STATUS] });
    if ('status' in q) return sendRefusal(res, q);
    if (!this.reader.presence)
      return sendRefusal(res, { status: 404, error: 'presence is off (presence.enabled: false): there are no statuses', expected: 'presence.enabled: true' });
    const { head, statuses } = await this.reader.statuses();
    sendJsonBuffer(res, req, 200, Buffer.from(JSON.stringify({ statuses })), head);
  }

  /** GET /v1/users?<indexed>=<value>: through the index, with the head, in one atomic read. */
  private async lookup(req: IncomingMessage, res: ServerResponse, q: UsersQuery): Promise<void> {
    const { property, value } = q.lookup!;
    const { head, id, props } = await this.reader.lookup(property, value);
    const user = id ? toUser(id, props, q) : null;
    const json = Buffer.from(JSON.stringify({ epoch: head.epoch, seq: head.seq, users: user ? [user] : [] }));
    sendJsonBuffer(res, req, 200, json, head);
  }

  /** GET /v1/users/<id>. */
  private async one(req: IncomingMessage, res: ServerResponse, id: string, q: UsersQuery): Promise<void> {
    const { head, props } = await this.reader.user(id);
    if (!Object.keys(props).length)
      return sendRefusal(
        res,
        { status: 404, error: `no user "${id.slice(0, 100)}" in the mirror`, parameter: 'id', expected: 'the id of a user in the directory' },
        head,
      );
    sendJsonBuffer(res, req, 200, Buffer.from(JSON.stringify(toUser(id, props, q))), head);
  }

  private async send(req: IncomingMessage, res: ServerResponse, body: Body): Promise<void> {
    const encoding = BodyCache.choose(req.headers['accept-encoding'], body.json.length, this.limits.minCompressBytes);
    const bytes = await body.encode(encoding, this.builds.turn);
    res.writeHead(200, {
      ...headHeaders(body.head),
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': bytes.length,
      ETag: body.etag,
      'Cache-Control': 'no-cache',
      Vary: 'Accept-Encoding',
      ...(encoding === 'identity' ? {} : { 'Content-Encoding': encoding }),
    });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }
}

/** A workgroup index being built (`at` null while it waits for its turn) or built. */
interface IndexFlight {
  at: MirrorHead | null;
  index: Promise<WorkgroupIndex>;
}

/** `path` is `base` or below it. */
const under = (path: string, base: string): boolean => path === base || path.startsWith(`${base}/`);

function toUser(id: string, props: UserProps, q: UsersQuery): { id: string } & UserProps {
  return { id, ...pickProps(props, q.props) };
}

/** If-None-Match holds this ETag (a list, weak or not, or `*`). */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}

const headHeaders = (head: MirrorHead) => ({ 'X-Icwatch-Seq': String(head.seq), 'X-Icwatch-Epoch': head.epoch ?? '' });

function notModified(res: ServerResponse, head: MirrorHead): void {
  res.writeHead(304, { ...headHeaders(head), ETag: etagOf(head), 'Cache-Control': 'no-cache', Vary: 'Accept-Encoding' });
  res.end();
}

function sendJsonBuffer(res: ServerResponse, req: IncomingMessage, status: number, json: Buffer, head?: MirrorHead): void {
  res.writeHead(status, {
    ...(head ? headHeaders(head) : {}),
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': json.length,
    'Cache-Control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : json);
}

/** A refusal as the WebSocket upgrade gives it: the status and a JSON body {error, parameter, expected}. */
export function sendRefusal(res: ServerResponse, refusal: Refusal, head?: MirrorHead): void {
  const { status, ...body } = refusal;
  const json = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...(head ? headHeaders(head) : {}),
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': json.length,
    'Cache-Control': 'no-store',
    ...(status === 401 ? { 'WWW-Authenticate': 'Bearer realm="icwatch"' } : {}),
    ...(status === 503 ? { 'Retry-After': '1' } : {}),
  });
  res.end(json);
}
