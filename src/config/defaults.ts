/**
 * Every configuration key with its default: the one defaults object (config/default.yaml documents the same
 * keys for operators, and a test keeps the two equal). Each key is overridden by the environment variable
 * ICWATCH_<SECTION>_<KEY> (camelCase → SCREAMING_SNAKE, e.g. icws.passwordFile → ICWATCH_ICWS_PASSWORD_FILE).
 */
export const DEFAULTS = {
  /** `all`: ICWS session + mirror + fan-out. `fanout`: serve WebSocket clients from the Redis mirror only. */
  role: 'all' as 'all' | 'fanout',
  icws: {
    /** Base URL of the ICWS API, ending in /icws. */
    url: 'http://127.0.0.1:8018/icws',
    user: 'icwatch',
    /** Secret. Prefer passwordFile or ICWATCH_ICWS_PASSWORD. */
    password: '',
    /** A file whose content (trimmed) is the password; wins over `password`. */
    passwordFile: '',
    applicationName: 'icwatch',
    /** Sent on connect; fixed for the session's life. */
    acceptLanguage: 'en-us',
    /** auto = server-sent events when the server's messaging feature is ≥ 2, else short polling. */
    transport: 'auto' as 'auto' | 'sse' | 'poll',
    /** Pause between two polls (one request in flight at a time). */
    pollIntervalMs: 1000,
    /** Time limit of one request (connect, PUT, DELETE, one poll). */
    requestTimeoutMs: 15000,
    /** An SSE stream silent (no event, no ping) for this long is dropped and reopened. */
    sseIdleTimeoutMs: 60000,
    /**
     * Largest poll response, SSE event, or user within an SSE usersMessage (its lists are read user by user) accepted;
     * a larger one is rejected (logged) and a full resync is asked. 256 MiB: a poll answer of ~300,000 users.
     */
    maxMessageBytes: 256 * 1024 * 1024,
    tls: {
      /** PEM file of the CA that signed the server's certificate ('' = system CAs). */
      caFile: '',
      rejectUnauthorized: true,
    },
    /** Retries of ICWS requests and reconnects: exponential backoff with jitter. */
    backoff: { initialMs: 500, maxMs: 60000, multiplier: 2, jitter: 0.5 },
  },
  subscription: {
    id: 'icwatch',
    configurationIds: ['*'],
    properties: [
      'configurationId',
      'extension',
      'statusText',
      'personalInformationProperties',
      'workgroups',
      'skills',
      'lastModifiedDate',
    ],
    rightsFilter: 'view',
  },
  redis: {
    /** redis:// or rediss:// URL of a standalone server (mode standalone). */
    url: 'redis://127.0.0.1:6379',
    mode: 'standalone' as 'standalone' | 'sentinel' | 'cluster',
    /** host:port list of Sentinels (mode sentinel) or Cluster seed nodes (mode cluster). */
    nodes: [] as string[],
    /** Sentinel master name (mode sentinel). */
    sentinelName: 'mymaster',
    keyPrefix: 'icwatch:users',
    /** Approximate length the change stream is trimmed to. */
    changeStreamLength: 100000,
    /** User properties indexed value → user id. */
    indexedProperties: ['extension'],
    /** Users written per Redis round trip during a full replace. */
    replaceBatchSize: 500,
    /** ICWS messages waiting to be applied; past this the queue is dropped and a full resync is asked. */
    maxPendingMessages: 10000,
    /** Messages coalesced into one Redis round trip at most. */
    maxBatchMessages: 256,
    /** Retries while Redis is unavailable: exponential backoff with jitter. */
    backoff: { initialMs: 200, maxMs: 10000, multiplier: 2, jitter: 0.5 },
  },
  http: {
    host: '127.0.0.1',
    port: 8080,
  },
  websocket: {
    path: '/v1/users',
    /** Secret. Bearer tokens accepted; none = the endpoint is open. */
    tokens: [] as string[],
    /** A file with one token per line; added to `tokens`. */
    tokenFile: '',
    /** A client whose unsent data passes this is closed with 4008 "slow consumer". */
    maxBufferedBytes: 4 * 1024 * 1024,
    /** Users per snapshot frame. */
    snapshotChunkUsers: 500,
    pingIntervalMs: 30000,
    maxClients: 10000,
    /** Largest frame accepted from a client. */
    maxClientFrameBytes: 4096,
    /** Frames a client may send that the server does not understand before it is closed with 1008. */
    maxClientErrors: 10,
  },
  log: {
    level: 'info' as 'error' | 'warn' | 'info' | 'debug',
    format: 'json' as 'json' | 'pretty',
  },
  shutdown: {
    /** Shutdown steps (DELETE subscription and connection, closing clients, draining writes) must end within this. */
    timeoutMs: 10000,
  },
};

export type Config = typeof DEFAULTS;

/** Keys whose values never reach a log line, an error or `check-config`. */
export const SECRET_KEYS = ['icws.password', 'websocket.tokens'] as const;
