/**
 * Every configuration key in one place: its validator, its default and what it means (the model is ioredis's
 * RedisOptions: one documented declaration per option). The `Config` type, `DEFAULTS`, each key's environment
 * variable (`ICWATCH_<SECTION>_<KEY>`) and what `check-config` prints follow from this schema.
 *
 * Adding a key is one line in its section below: `name: <validator>.default(<value>)`, with a comment saying what
 * it means. The default cannot be left out: a section's `.prefault({})` (an absent section is its defaults) does not
 * type-check while one of its keys has none. The operators' copy follows: config/default.yaml and the README table
 * (test/config fails until the file holds the key, its default and its `Env:` variable, and the README its row).
 * A secret key also goes into SECRET_KEYS. A new section (e.g. `ha`) is `ha: z.strictObject({ …keys }).prefault({})`.
 *
 * Unknown keys are errors (a typo must not silently fall back to a default). Messages say what was expected, in
 * words an operator can act on.
 */
import { z } from 'zod';
import { parseRedisUrl } from './redis-url.js';

const int = (min: number, max: number) =>
  z
    .number({ error: `expected a whole number from ${min} to ${max}` })
    .int(`expected a whole number from ${min} to ${max}`)
    .min(min, `expected at least ${min}`)
    .max(max, `expected at most ${max}`);
const fraction = z.number({ error: 'expected a number from 0 to 1' }).min(0, 'expected a number from 0 to 1').max(1, 'expected a number from 0 to 1');
const text = z.string({ error: 'expected a string' });
const nonEmpty = text.min(1, 'expected a non-empty string');
const flag = z.boolean({ error: 'expected true or false' });
const list = (item: z.ZodType<string>) => z.array(item, { error: 'expected a list of strings' });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `expected one of ${values.join(', ')}` });
const httpUrl = nonEmpty.refine((v) => /^https?:\/\/[^/\s]+(\/\S*)?$/.test(v), 'expected an http:// or https:// URL, e.g. https://ic1.example.com:8019/icws');
const redisUrl = nonEmpty.superRefine((v, ctx) => {
  const url = parseRedisUrl(v);
  if ('problem' in url) ctx.addIssue({ code: 'custom', message: url.problem });
});
const hostPort = nonEmpty.refine((v) => /^[^:\s@]+:\d{1,5}$/.test(v), 'expected host:port (credentials go in redis.url)');
const propertyName = nonEmpty.refine((v) => /^[A-Za-z][A-Za-z0-9]*$/.test(v), 'expected a property name such as extension');
const origin = nonEmpty.refine((v) => /^https?:\/\/[^/\s?#]+$/.test(v), 'expected an origin: scheme://host[:port], e.g. https://dashboard.example.com');
const tokenText = nonEmpty.refine((v) => !/\s/.test(v), 'expected a token without spaces');
/** A token: a string (reads everything), or {token, props} (reads only those properties; README "Security"). */
export const tokenSpec = z.union(
  [
    tokenText,
    z.strictObject({
      token: tokenText,
      props: list(propertyName).min(1, 'expected at least one property name (a token without props reads everything)'),
    }),
  ],
  { error: 'expected a token string or {token: <string>, props: [<property>, …]}' },
);
export type TokenSpec = z.infer<typeof tokenSpec>;

/** Exponential backoff with jitter, capped at maxMs (src/util/backoff.ts). */
const backoff = (defaults: { initialMs: number; maxMs: number; multiplier: number; jitter: number }) =>
  z
    .strictObject({
      /** First retry delay. */
      initialMs: int(1, 3_600_000).default(defaults.initialMs),
      /** Longest delay. */
      maxMs: int(1, 3_600_000).default(defaults.maxMs),
      /** Each delay is the previous one times this. */
      multiplier: z.number({ error: 'expected a number ≥ 1' }).min(1, 'expected a number ≥ 1').max(10, 'expected at most 10').default(defaults.multiplier),
      /** Up to this fraction of a delay is taken off at random. */
      jitter: fraction.default(defaults.jitter),
    })
    .prefault({});

export const configSchema = z.strictObject({
  /** `all`: ICWS session + Redis mirror + WebSocket fan-out. `fanout`: serve WebSocket clients from the mirror only. */
  role: oneOf(['all', 'fanout']).default('all'),
  icws: z
    .strictObject({
      /** Base URL of the ICWS API, ending in /icws (https on 8019, plain http on 8018). */
      url: httpUrl.default('http://127.0.0.1:8018/icws'),
      /**
       * Where an alternate server of a switchover is (503 with alternateHostList): '' = the url with its host replaced
       * (same scheme and port); behind the vendor's web proxy, a URL with {host} where the server is named, e.g.
       * https://proxy.example.com/api/{host}/icws (docs/icws.md "Real sites").
       */
      alternateUrlTemplate: text
        .refine(
          (v) => v === '' || (v.includes('{host}') && /^https?:\/\/[^/\s]+(\/\S*)?$/.test(v.replaceAll('{host}', 'ic1'))),
          'expected "" or an http:// or https:// URL with {host} where the alternate server is named, e.g. https://proxy.example.com/api/{host}/icws',
        )
        .default(''),
      /** ICWS userID icwatch logs in as. */
      user: text.default('icwatch'),
      /** Secret: the user's password. Prefer passwordFile or ICWATCH_ICWS_PASSWORD. */
      password: text.default(''),
      /** A file whose content (trimmed) is the password; wins over `password`. */
      passwordFile: text.default(''),
      /** Sent on connect (shown in the IC server's session list). */
      applicationName: nonEmpty.default('icwatch'),
      /** Sent on connect; fixed for the session's life. */
      acceptLanguage: nonEmpty.refine((v) => /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(v), 'expected a language tag such as en-us').default('en-us'),
      /** auto = server-sent events when the server's messaging feature is ≥ 2, else short polling. */
      transport: oneOf(['auto', 'sse', 'poll']).default('auto'),
      /** Pause between two polls (one request in flight at a time). */
      pollIntervalMs: int(0, 600_000).default(1000),
      /** Time limit of one request (connect, PUT, DELETE, one poll). */
      requestTimeoutMs: int(100, 600_000).default(15000),
      /** An SSE stream silent (no event, no ping) for this long is dropped and reopened. */
      sseIdleTimeoutMs: int(1000, 3_600_000).default(60000),
      /**
       * Largest poll response, SSE event, or user within an SSE usersMessage (its lists are read user by user)
       * accepted; a larger one is rejected (logged) and a full resync is asked. 256 MiB: a poll answer of ~300,000 users.
       */
      maxMessageBytes: int(1024, 1024 * 1024 * 1024).default(256 * 1024 * 1024),
      tls: z
        .strictObject({
          /** PEM file of the CA that signed the server's certificate ('' = the system CAs). */
          caFile: text.default(''),
          /** false accepts any certificate (testing only). */
          rejectUnauthorized: flag.default(true),
        })
        .prefault({}),
      /** Retries of ICWS requests and reconnects; maxMs is also the wait after a refused login (accounts lock out). */
      backoff: backoff({ initialMs: 500, maxMs: 60000, multiplier: 2, jitter: 0.5 }),
    })
    .prefault({}),
  subscription: z
    .strictObject({
      /** Id of the users subscription in the ICWS session (a URL path segment). */
      id: nonEmpty.refine((v) => /^[A-Za-z0-9._~-]+$/.test(v), 'expected letters, digits, . _ ~ or - (it is a URL path segment)').default('icwatch'),
      /** Users to watch: ids, or "*" for all. */
      configurationIds: list(nonEmpty)
        .min(1, 'expected at least one id, or "*" for all users')
        .default(() => ['*']),
      /** User properties mirrored ("*" = all). */
      properties: list(nonEmpty)
        .min(1, 'expected at least one property, or "*" for all')
        .default(() => ['configurationId', 'extension', 'statusText', 'personalInformationProperties', 'workgroups', 'skills', 'lastModifiedDate']),
      /** Whose rights decide what is visible: view, admin, loggedInUser, or a named right. */
      rightsFilter: nonEmpty.default('view'),
      /**
       * The leader asks ICWS for a full replace this often and counts what it had to change (icwatch_verify_differences_total;
       * README "Integrity"); 0 = never. 6 h. At most 7 days (a timer's delay is bounded: Node's is 2^31 - 1 ms).
       */
      verifyIntervalMs: int(0, 7 * 24 * 3_600_000).default(21_600_000),
    })
    .prefault({}),
  redis: z
    .strictObject({
      /**
       * redis:// or rediss:// URL of a standalone server; credentials, TLS (rediss: on every connection) and database in
       * every mode. The user and password percent-encoded.
       */
      url: redisUrl.default('redis://127.0.0.1:6379'),
      /** standalone (url), sentinel (nodes + sentinelName) or cluster (nodes). */
      mode: oneOf(['standalone', 'sentinel', 'cluster']).default('standalone'),
      /** host:port list of Sentinels (mode sentinel) or Cluster seed nodes (mode cluster). */
      nodes: list(hostPort).default(() => []),
      /** Sentinel master name (mode sentinel). */
      sentinelName: nonEmpty.default('mymaster'),
      /** Prefix of every key of the mirror; it becomes the hash tag {prefix}. */
      keyPrefix: nonEmpty.refine((v) => !/[{}\s]/.test(v), 'expected no braces or spaces (the prefix becomes the {hash tag})').default('icwatch:users'),
      /** Approximate length the change stream is trimmed to. */
      changeStreamLength: int(100, 1_000_000_000).default(100000),
      /** User properties indexed value → user id. */
      indexedProperties: list(propertyName).default(() => ['extension']),
      /** Users written per Redis round trip during a full replace. */
      replaceBatchSize: int(1, 100_000).default(500),
      /** ICWS messages waiting to be applied; past this the queue is dropped and a full resync is asked. */
      maxPendingMessages: int(1, 10_000_000).default(10000),
      /** Messages coalesced into one Redis round trip at most. */
      maxBatchMessages: int(1, 100_000).default(256),
      /**
       * Replicas each write waits for (WAIT after the apply script, in the same round trip); 0 = none. Writes not
       * acknowledged within waitTimeoutMs are counted (icwatch_redis_unreplicated_writes_total) and the writer goes on.
       */
      waitReplicas: int(0, 100).default(0),
      /** How long a write waits for redis.waitReplicas replicas at most (WAIT's timeout; never 0, which waits forever). */
      waitTimeoutMs: int(1, 60_000).default(1000),
      /** Retries while Redis is unavailable. */
      backoff: backoff({ initialMs: 200, maxMs: 10000, multiplier: 2, jitter: 0.5 }),
      /** Secret: the Redis password, as is (any character); wins over one in redis.url. Prefer passwordFile. */
      password: text.default(''),
      /** A file whose content (trimmed) is the Redis password; wins over `password`. */
      passwordFile: text.default(''),
      /** ACL user icwatch gives the Sentinels (mode sentinel; '' = the default user). */
      sentinelUsername: text.default(''),
      /** Secret: the Sentinels' password (their requirepass or the ACL user's); '' = Sentinels without auth. */
      sentinelPassword: text.default(''),
      /** A file whose content (trimmed) is the Sentinels' password; wins over `sentinelPassword`. */
      sentinelPasswordFile: text.default(''),
      /** TLS of every Redis connection (servers, Cluster nodes, Sentinels) when redis.url is rediss://. */
      tls: z
        .strictObject({
          /** PEM file of the CA that signed the Redis servers' certificates ('' = the system CAs). */
          caFile: text.default(''),
          /** PEM client certificate for mutual TLS (Redis tls-auth-clients yes); with keyFile. */
          certFile: text.default(''),
          /** PEM private key of certFile. */
          keyFile: text.default(''),
          /** Name checked against the servers' certificates and sent as SNI ('' = the host connected to). */
          servername: text.default(''),
        })
        .prefault({}),
    })
    .prefault({}),
  mirror: z
    .strictObject({
      /**
       * The delete guard: a message that would remove more users than this is applied without those removals; they
       * are held in {prefix}:held until `icwatch removals --apply` or `--discard`, or a full replace brings them back.
       */
      deleteGuard: z
        .strictObject({
          /** Removals one message may make at most; more are held. 0 turns the guard off. */
          maxRemovals: int(0, 100_000_000).default(500),
          /** Share of the mirror's users one message may remove at most (mirrors of at least minUsers users); more are held. */
          maxFraction: fraction.default(0.2),
          /** maxFraction guards only mirrors of at least this many users. */
          minUsers: int(0, 100_000_000).default(50),
        })
        .prefault({}),
    })
    .prefault({}),
  http: z
    .strictObject({
      /** Address of the HTTP server (/metrics, /healthz, /readyz, /, and the WebSocket); 0.0.0.0 = every interface. */
      host: nonEmpty.default('127.0.0.1'),
      /** Its port (0 = any free port). */
      port: int(0, 65535).default(8080),
      /** true lets a non-loopback http.host serve without websocket.tokens (anyone who reaches the port reads the directory). */
      allowAnonymous: flag.default(false),
      /** Web origins (scheme://host[:port]) whose pages may read besides icwatch's own; any other Origin is refused 403. */
      allowedOrigins: list(origin).default(() => []),
      /** Host names answered besides loopback ones while http.host is loopback (DNS rebinding guard); e.g. a proxy's name. */
      allowedHosts: list(nonEmpty.refine((v) => /^[A-Za-z0-9._-]+$|^\[[0-9A-Fa-f:.]+\]$/.test(v), 'expected a host name without port')).default(() => []),
      /**
       * Bodies of GET /v1/users (README "HTTP reads"), per process: built once per seq and query, kept for reuse, the
       * least recently used dropped first; builds and compressions take turns, so reads cannot hog the CPU.
       */
      bodies: z
        .strictObject({
          /** Bodies kept at most. */
          maxEntries: int(1, 100_000).default(16),
          /** Bytes they keep at most (JSON and compressed forms; the newest body is kept even if larger). */
          maxBytes: int(0, 64 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
          /** Body builds and compressions running at once; the others wait their turn. */
          maxConcurrentBuilds: int(1, 64).default(1),
          /** Requests waiting for a turn at most; more are answered 503 (Retry-After). */
          maxQueuedBuilds: int(0, 1_000_000).default(256),
        })
        .prefault({}),
    })
    .prefault({}),
  websocket: z
    .strictObject({
      /** Path of the WebSocket endpoint. */
      path: nonEmpty.refine((v) => v.startsWith('/'), 'expected a path starting with /').default('/v1/users'),
      /**
       * Secret: bearer tokens accepted, each a string or {token, props} (reads only those properties); none = the
       * endpoint is open (loopback only, unless http.allowAnonymous). They guard every read: WebSocket, HTTP reads, the
       * page's data, /v1/status and /metrics.
       */
      tokens: z.array(tokenSpec, { error: 'expected a list of tokens' }).default(() => []),
      /** A file of tokens (# comments allowed): TOKEN or TOKEN props=a,b per line, or a YAML list as in tokens; added to them. */
      tokenFile: text.default(''),
      /** A client whose unsent data passes this is closed with 4008 "slow consumer". */
      maxBufferedBytes: int(1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024),
      /** Users per snapshot frame. */
      snapshotChunkUsers: int(1, 100_000).default(500),
      /** Ping interval; a client that misses a pong is disconnected. */
      pingIntervalMs: int(100, 3_600_000).default(30000),
      /** Connected clients at most per worker process (websocket.workers × this in all); further connections are refused. */
      maxClients: int(1, 1_000_000).default(10000),
      /** Largest frame accepted from a client. */
      maxClientFrameBytes: int(16, 1024 * 1024).default(4096),
      /** Frames a client may send that the server does not understand before it is closed with 1008. */
      maxClientErrors: int(1, 1000).default(10),
      /**
       * Processes serving WebSocket clients and HTTP on http.port (icwatch run); 0 = one per CPU. The ICWS session and
       * the mirror writer run in the primary process, which serves no sockets.
       */
      workers: int(0, 256).default(1),
      /**
       * How many nice levels below the primary the worker processes run (setpriority(2)), so that where they share
       * cores the kernel runs the mirror writer first; 0 = the primary's priority. A priority the system refuses to
       * lower is logged once, and the workers run at the primary's.
       */
      workerNice: int(0, 19).default(5),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: oneOf(['error', 'warn', 'info', 'debug']).default('info'),
      /** json = one JSON object per line on stdout (journald, Kubernetes); pretty = for a terminal. */
      format: oneOf(['json', 'pretty']).default('json'),
    })
    .prefault({}),
  ha: z
    .strictObject({
      /** Several `role: all` replicas of one mirror: one leader holds the ICWS session and writes, the others stand by. */
      enabled: flag.default(true),
      /** The leader lease in Redis ({prefix}:leader): a leader that cannot renew it within this stops writing. */
      leaseMs: int(500, 600_000).default(10000),
      /** The leader renews its lease this often; a standby polls for a free lease as often. */
      renewMs: int(100, 300_000).default(2000),
      /** This replica's id, the value of the lease while it leads ('' = hostname-pid-random). Unique per replica. */
      replicaId: text.refine((v) => !/\s/.test(v), 'expected no spaces').default(''),
    })
    .refine((ha) => ha.renewMs * 2 <= ha.leaseMs, {
      path: ['renewMs'],
      message: 'expected at most half of ha.leaseMs (the leader must get several renewals in before its lease expires)',
    })
    .prefault({}),
  /** Presence (README "Presence"): user statuses for every mirrored user, in the mirror, the fan-out and the reads. */
  presence: z
    .strictObject({
      /** false = the users directory alone: no status subscription, no status keys or entries. */
      enabled: flag.default(true),
      /** Status groups (the catalogue's groupTag) whose logged-in agents off the phone count as available. */
      availableGroups: list(nonEmpty)
        .min(1, 'expected at least one status group, e.g. AVAILABLE')
        .default(() => ['AVAILABLE']),
      /** Workgroup ids that get an icwatch_available_agents{workgroup} series (a list, so labels stay bounded). */
      metricWorkgroups: list(nonEmpty)
        .max(1000, 'expected at most 1000 workgroup ids')
        .default(() => []),
      /** After the mirror's ids change, wait this long for more changes before PUTting the whole list again. */
      subscribeDebounceMs: int(0, 600_000).default(500),
      /** Statuses for users not (yet) in the directory kept until the user appears; past it the oldest are dropped, counted. */
      maxPendingStatuses: int(0, 10_000_000).default(10000),
    })
    .prefault({}),
  shutdown: z
    .strictObject({
      /** Shutdown steps (DELETE subscription and connection, closing clients, draining writes) must end within this. */
      timeoutMs: int(100, 600_000).default(10000),
    })
    .prefault({}),
});

/** The validated configuration: exactly what the schema produces, so the type cannot drift from the validation. */
export type Config = z.infer<typeof configSchema>;

/** Keys whose values never reach a log line, an error or `check-config` (credentials inside URLs are masked too). */
export const SECRET_KEYS = ['icws.password', 'websocket.tokens', 'redis.password', 'redis.sentinelPassword'] as const;
