/**
 * Every metric icwatch exposes (README "Metrics": the names are the contract). One instance per process, on its own
 * registry so that tests can run several side by side. Stages receive this object and update what they own.
 */
import client from 'prom-client';

const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SOURCE_LAG_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];

/**
 * A registry whose text exposition may come from elsewhere: a worker of `icwatch run` serves the aggregate of every
 * process (src/metrics/aggregate.ts) while its own getMetricsAsJSON() stays its own.
 */
class ExposedRegistry extends client.Registry {
  exposition?: () => Promise<string>;

  override metrics(): Promise<string> {
    return this.exposition ? this.exposition() : super.metrics();
  }
}

export class Metrics {
  readonly registry: client.Registry = new ExposedRegistry();

  readonly lag = new client.Histogram({
    name: 'icwatch_lag_seconds',
    help: 'From the moment a message arrived from ICWS to its commit in Redis (stage="redis") or its hand-off to WebSocket clients (stage="websocket").',
    labelNames: ['stage'] as const,
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly sourceLag = new client.Histogram({
    name: 'icwatch_source_lag_seconds',
    help: "Now minus the changed user's lastModifiedDate (the ICWS server's clock).",
    buckets: SOURCE_LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly messages = new client.Counter({
    name: 'icwatch_messages_total',
    help: 'ICWS messages received, by __type (short name, or "unknown"/"malformed") and delta ("true", "false", or "" for non-users messages).',
    labelNames: ['type', 'delta'] as const,
    registers: [this.registry],
  });
  readonly changes = new client.Counter({
    name: 'icwatch_changes_total',
    help: 'Change entries written to the mirror, by op (upsert, remove).',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });
  // Gauges the primary alone sets (the mirror, the ICWS session): across processes the largest value is the primary's,
  // the workers hold 0 (src/metrics/aggregate.ts).
  readonly users = new client.Gauge({ name: 'icwatch_users', help: 'Users in the mirror.', aggregator: 'max', registers: [this.registry] });
  readonly seq = new client.Gauge({ name: 'icwatch_seq', help: "The last change's sequence number.", aggregator: 'max', registers: [this.registry] });
  readonly pendingMessages = new client.Gauge({
    name: 'icwatch_pending_messages',
    help: 'ICWS messages received and not yet applied to Redis.',
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly fullSyncs = new client.Counter({
    name: 'icwatch_full_syncs_total',
    help: 'Full replaces applied, by reason (subscribe, resubscribe after a new session, unreadable messages, overflow of the pending queue, redis came back empty, incomplete-write, lost-writes, verify, server sent one unasked).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly icwsRequests = new client.Counter({
    name: 'icwatch_icws_requests_total',
    help: 'ICWS requests, by route template (no ids) and HTTP status code ("error" when no response came).',
    labelNames: ['route', 'code'] as const,
    registers: [this.registry],
  });
  readonly icwsRequestDuration = new client.Histogram({
    name: 'icwatch_icws_request_duration_seconds',
    help: 'Duration of ICWS requests by route template (long-lived SSE streams excluded).',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly icwsSessionUp = new client.Gauge({
    name: 'icwatch_icws_session_up',
    help: '1 while the ICWS session is up and the subscription active.',
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly icwsReconnects = new client.Counter({
    name: 'icwatch_icws_reconnects_total',
    help:
      'New ICWS sessions after the first, and resyncs asked within a session, by reason (unauthorized, network, server-error, switchover, auth-failure, resync; ' +
      'a session the server put down: its reason as IceLib names it — AdminLogOff, UserDeleted, StationDeleted, StationDeactivated, AnotherLogOn, UserLogOff, ' +
      'SessionTimeout, Switchover, ServerNotResponding — other for any other reason, connection-down when it gave none).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  // 'first': the primary's value (it is first in src/cluster/pool.ts), NaN included; the workers never log in.
  readonly icwsPasswordExpiryDays = new client.Gauge({
    name: 'icwatch_icws_password_expiry_days',
    help: "Days until the ICWS user's password expires, as the last login said (daysUntilPasswordExpiration); NaN when the server does not say.",
    aggregator: 'first',
    registers: [this.registry],
  });
  readonly lastMessageTimestamp = new client.Gauge({
    name: 'icwatch_last_message_timestamp_seconds',
    help: 'Unix time of the last message received from ICWS.',
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly redisApplyDuration = new client.Histogram({
    name: 'icwatch_redis_apply_duration_seconds',
    help: 'Duration of one Redis apply round trip (one batch of messages, or one batch of a full replace).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly redisErrors = new client.Counter({
    name: 'icwatch_redis_errors_total',
    help: 'Failed Redis operations (each retried).',
    registers: [this.registry],
  });
  readonly redisUnreplicatedWrites = new client.Counter({
    name: 'icwatch_redis_unreplicated_writes_total',
    help: 'Mirror writes fewer replicas acknowledged within redis.waitTimeoutMs than redis.waitReplicas asks (the writer went on).',
    registers: [this.registry],
  });
  readonly verifyDifferences = new client.Counter({
    name: 'icwatch_verify_differences_total',
    help: 'Changes the periodic verification (a full replace every subscription.verifyIntervalMs) had to apply: 0 on a healthy site.',
    registers: [this.registry],
  });
  readonly wsClients = new client.Gauge({ name: 'icwatch_ws_clients', help: 'Connected WebSocket clients.', registers: [this.registry] });
  readonly wsFramesSent = new client.Counter({ name: 'icwatch_ws_frames_sent_total', help: 'WebSocket frames sent to clients.', registers: [this.registry] });
  readonly wsDisconnects = new client.Counter({
    name: 'icwatch_ws_disconnects_total',
    help: 'WebSocket clients gone, by reason (client, slow-consumer, keepalive, abuse, shutdown, error).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly httpBodyBuilds = new client.Counter({
    name: 'icwatch_http_body_builds_total',
    help: 'Bodies of GET /v1/users serialized (one per seq and query at most; the others are shared or served from the body cache).',
    registers: [this.registry],
  });

  readonly leader = new client.Gauge({
    name: 'icwatch_leader',
    help: '1 while this replica leads (holds the lease, the ICWS session and writes the mirror), 0 while it stands by.',
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly leaderChanges = new client.Counter({
    name: 'icwatch_leader_changes_total',
    help: 'Times this replica became the leader (took the lease over).',
    registers: [this.registry],
  });

  readonly removalsHeld = new client.Gauge({
    name: 'icwatch_removals_held',
    help: 'Users whose removal the delete guard holds (mirror.deleteGuard): a message would have removed too many at once. icwatch removals --list.',
    aggregator: 'max',
    registers: [this.registry],
  });

  // Presence (README "Presence"): set by the leader's writer alone, like the mirror's other gauges.
  readonly presenceUsers = new client.Gauge({
    name: 'icwatch_presence_users',
    help: 'Users of the mirror with a status (presence).',
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly statusChanges = new client.Counter({
    name: 'icwatch_status_changes_total',
    help: 'Status change entries (op status) written to the mirror.',
    registers: [this.registry],
  });
  readonly availableAgents = new client.Gauge({
    name: 'icwatch_available_agents',
    help: 'Available agents of each workgroup listed in presence.metricWorkgroups (logged in, not on the phone, in a status of presence.availableGroups).',
    labelNames: ['workgroup'] as const,
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly statusesDropped = new client.Counter({
    name: 'icwatch_statuses_dropped_total',
    help: 'Statuses of users not in the directory dropped: more than presence.maxPendingStatuses waited for their user.',
    registers: [this.registry],
  });
  readonly unknownStatusIds = new client.Counter({
    name: 'icwatch_unknown_status_ids_total',
    help: 'Statuses written whose statusId the status catalogue does not know (kept, shown by their id, never available).',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // Unknown until a login says: 0 would read as "expired" (and fire the alert).
    this.icwsPasswordExpiryDays.set(NaN);
    if (options.defaultMetrics ?? true) client.collectDefaultMetrics({ register: this.registry });
  }

  /** What /metrics serves instead of this registry alone (a worker of `icwatch run`: the primary's aggregate). */
  exposeWith(exposition: () => Promise<string>): void {
    (this.registry as ExposedRegistry).exposition = exposition;
  }
}

/** The names above, for tests that cross-check dashboards and alert rules. */
export const METRIC_NAMES = [
  'icwatch_lag_seconds',
  'icwatch_source_lag_seconds',
  'icwatch_messages_total',
  'icwatch_changes_total',
  'icwatch_users',
  'icwatch_seq',
  'icwatch_pending_messages',
  'icwatch_full_syncs_total',
  'icwatch_icws_requests_total',
  'icwatch_icws_request_duration_seconds',
  'icwatch_icws_session_up',
  'icwatch_icws_reconnects_total',
  'icwatch_icws_password_expiry_days',
  'icwatch_last_message_timestamp_seconds',
  'icwatch_redis_apply_duration_seconds',
  'icwatch_redis_errors_total',
  'icwatch_ws_clients',
  'icwatch_ws_frames_sent_total',
  'icwatch_ws_disconnects_total',
  'icwatch_http_body_builds_total',
  'icwatch_leader',
  'icwatch_leader_changes_total',
  'icwatch_removals_held',
] as const;
