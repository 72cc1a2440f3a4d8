/**
 * The shape every configuration value must have. Unknown keys are errors (a typo must not silently fall back to
 * a default). Messages say what was expected, in words an operator can act on.
 */
import { z } from 'zod';

const int = (min: number, max: number) =>
  z.number({ error: `expected a whole number from ${min} to ${max}` }).int(`expected a whole number from ${min} to ${max}`).min(min, `expected at least ${min}`).max(max, `expected at most ${max}`);
const text = z.string({ error: 'expected a string' });
const nonEmpty = text.min(1, 'expected a non-empty string');
const flag = z.boolean({ error: 'expected true or false' });
const list = (item: z.ZodType<string>) => z.array(item, { error: 'expected a list of strings' });
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `expected one of ${values.join(', ')}` });
const httpUrl = nonEmpty.refine((v) => /^https?:\/\/[^/\s]+(\/\S*)?$/.test(v), 'expected an http:// or https:// URL, e.g. https://ic1.example.com:8019/icws');
const redisUrl = nonEmpty.refine((v) => /^rediss?:\/\/\S+$/.test(v), 'expected a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379');
const hostPort = nonEmpty.refine((v) => /^[^:\s]+:\d{1,5}$/.test(v), 'expected host:port');
const backoff = z.strictObject({
  initialMs: int(1, 3_600_000),
  maxMs: int(1, 3_600_000),
  multiplier: z.number({ error: 'expected a number ≥ 1' }).min(1, 'expected a number ≥ 1').max(10, 'expected at most 10'),
  jitter: z.number({ error: 'expected a number from 0 to 1' }).min(0, 'expected a number from 0 to 1').max(1, 'expected a number from 0 to 1'),
});

export const configSchema = z.strictObject({
  role: oneOf(['all', 'fanout'] as const),
  icws: z.strictObject({
    url: httpUrl,
    user: text,
    password: text,
    passwordFile: text,
    applicationName: nonEmpty,
    acceptLanguage: nonEmpty.refine((v) => /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(v), 'expected a language tag such as en-us'),
    transport: oneOf(['auto', 'sse', 'poll'] as const),
    pollIntervalMs: int(0, 600_000),
    requestTimeoutMs: int(100, 600_000),
    sseIdleTimeoutMs: int(1000, 3_600_000),
    maxMessageBytes: int(1024, 1024 * 1024 * 1024),
    tls: z.strictObject({ caFile: text, rejectUnauthorized: flag }),
    backoff,
  }),
  subscription: z.strictObject({
    id: nonEmpty.refine((v) => /^[A-Za-z0-9._~-]+$/.test(v), 'expected letters, digits, . _ ~ or - (it is a URL path segment)'),
    configurationIds: list(nonEmpty).min(1, 'expected at least one id, or "*" for all users'),
    properties: list(nonEmpty).min(1, 'expected at least one property, or "*" for all'),
    rightsFilter: nonEmpty,
  }),
  redis: z.strictObject({
    url: redisUrl,
    mode: oneOf(['standalone', 'sentinel', 'cluster'] as const),
    nodes: list(hostPort),
    sentinelName: nonEmpty,
    keyPrefix: nonEmpty.refine((v) => !/[{}\s]/.test(v), 'expected no braces or spaces (the prefix becomes the {hash tag})'),
    changeStreamLength: int(100, 1_000_000_000),
    indexedProperties: list(nonEmpty.refine((v) => /^[A-Za-z][A-Za-z0-9]*$/.test(v), 'expected a property name such as extension')),
    replaceBatchSize: int(1, 100_000),
    maxPendingMessages: int(1, 10_000_000),
    maxBatchMessages: int(1, 100_000),
    backoff,
  }),
  http: z.strictObject({ host: nonEmpty, port: int(0, 65535) }),
  websocket: z.strictObject({
    path: nonEmpty.refine((v) => v.startsWith('/'), 'expected a path starting with /'),
    tokens: list(nonEmpty),
    tokenFile: text,
    maxBufferedBytes: int(1024, 1024 * 1024 * 1024),
    snapshotChunkUsers: int(1, 100_000),
    pingIntervalMs: int(100, 3_600_000),
    maxClients: int(1, 1_000_000),
    maxClientFrameBytes: int(16, 1024 * 1024),
    maxClientErrors: int(1, 1000),
  }),
  log: z.strictObject({
    level: oneOf(['error', 'warn', 'info', 'debug'] as const),
    format: oneOf(['json', 'pretty'] as const),
  }),
  ha: z
    .strictObject({ enabled: flag, leaseMs: int(500, 600_000), renewMs: int(100, 300_000), replicaId: text.refine((v) => !/\s/.test(v), 'expected no spaces') })
    .refine((ha) => ha.renewMs * 2 <= ha.leaseMs, { path: ['renewMs'], message: 'expected at most half of ha.leaseMs (the leader must get several renewals in before its lease expires)' }),
  shutdown: z.strictObject({ timeoutMs: int(100, 600_000) }),
});
