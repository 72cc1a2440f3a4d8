/**
 * The ICWS checks of `icwatch doctor`, in one session opened as the daemon opens it: the login, the server's version
 * and features against the properties asked for, the users subscription (PUT and DELETE under a scratch id, so the
 * daemon's own subscription is never touched), the status catalogue, and the logout. Nothing printed here holds the
 * password, the session's CSRF token or cookie (IcwsConnection registers them for redaction, and the report redacts).
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/defaults.js';
import { connectionFromConfig, type IcwsConnection, type SessionInfo } from '../icws/connection.js';
import { IcwsAuthenticationError, IcwsConfigError, IcwsError, IcwsNetworkError, IcwsUnavailableError } from '../icws/errors.js';
import { newerPropertyWarnings } from '../icws/property-versions.js';
import { UsersSubscription } from '../icws/subscription.js';
import { fail, pass, warn, type CheckResult } from './report.js';

/** Warn when the password expires within this many days; fail within PASSWORD_FAIL_DAYS (the alert's threshold). */
export const PASSWORD_WARN_DAYS = 14;
export const PASSWORD_FAIL_DAYS = 7;

const PASSWORD_KEYS = 'icws.password / icws.passwordFile / ICWATCH_ICWS_PASSWORD';

/** The server's own words, never more than a line. */
const said = (err: IcwsError) =>
  `${err.status ? `${err.status} ` : ''}${err.errorId ?? (err.errorCode !== undefined ? `errorCode ${err.errorCode}` : '')}`.trim();

function describeVersion(v: Record<string, unknown> | undefined): string | undefined {
  if (!v) return undefined;
  const text = (k: string) => {
    const x = v[k];
    return (typeof x === 'string' && x) || typeof x === 'number' ? String(x) : undefined;
  };
  const major = text('majorVersion');
  const release = text('productReleaseDisplayString') ?? (major ? `${major} R${text('minorVersion') ?? '?'}` : undefined);
  const su = text('su');
  const patch = text('productPatchDisplayString') ?? (su ? `SU ${su}` : undefined);
  return [release, patch].filter(Boolean).join(' ') || undefined;
}

export class IcwsChecks {
  private readonly connection: IcwsConnection;
  private session: SessionInfo | undefined;

  constructor(private readonly config: Config) {
    this.connection = connectionFromConfig(config.icws);
  }

  get loggedIn(): boolean {
    return this.session !== undefined;
  }

  async login(): Promise<CheckResult> {
    const { user } = this.config.icws;
    if (!this.config.icws.password) {
      return fail(`no password configured for user "${user}"`, `set one of ${PASSWORD_KEYS}`);
    }
    try {
      this.session = await this.connection.connect();
    } catch (err) {
      if (err instanceof IcwsAuthenticationError) {
        return fail(
          `the server refused the login of user "${user}" (${said(err)}: ${err.serverMessage})`,
          `check icws.user and the password (${PASSWORD_KEYS}); repeated refusals can lock the account, ask the IC administrator`,
        );
      }
      if (err instanceof IcwsUnavailableError) {
        const hosts = err.alternateHostList.length ? `; it names ${err.alternateHostList.join(', ')}` : '';
        return fail(
          `this server does not accept connections (${said(err)}${hosts})`,
          'it is a backup or switching over: icwatch tries the alternates itself, but point icws.url at the active server to be sure',
        );
      }
      if (err instanceof IcwsNetworkError) return fail(`no answer to the login (${err.code}): ${err.serverMessage}`, 'see the DNS, TCP and TLS checks above');
      if (err instanceof IcwsError) {
        return fail(`the login answered ${said(err)}: ${err.serverMessage}`, 'check that icws.url is the ICWS base URL (ending in /icws) of an IC server');
      }
      return fail(`the login failed: ${(err as Error).message}`, 'check icws.url and icws.tls.*');
    }
    const s = this.session;
    const found = `logged in as "${s.userID}" on ${s.icServer}${s.alternateHostList.length ? ` (alternates: ${s.alternateHostList.join(', ')})` : ''}`;
    const days = s.passwordExpiryDays;
    if (days !== undefined && days <= PASSWORD_WARN_DAYS) {
      const expiring = `${found}; the password expires in ${days} day${days === 1 ? '' : 's'}`;
      const fix = `change the password of "${s.userID}" on the IC server and in ${PASSWORD_KEYS} before then: an expired password refuses every login`;
      return days <= PASSWORD_FAIL_DAYS ? fail(expiring, fix) : warn(expiring, fix);
    }
    return pass(days !== undefined ? `${found}; the password expires in ${days} days` : found);
  }

  /** The version (GET connection/version, else the login's) and the features against what the configuration asks for. */
  async version(): Promise<CheckResult> {
    const options = { route: 'GET version', allowStatus: [404] };
    let version: string | undefined;
    try {
      const res = await this.connection.getUnauthenticated<Record<string, unknown>>('/connection/version', options);
      if (res.status === 200) version = describeVersion(res.body);
    } catch {
      // Older servers and proxies may not answer it: the login's version, or the features alone, say enough.
    }
    version ??= describeVersion(this.session?.version);
    let features = this.session?.features;
    if (!features) {
      try {
        const res = await this.connection.getUnauthenticated<{ featureInfoList?: { featureId?: unknown; version?: unknown }[] }>('/connection/features', {
          route: 'GET features',
        });
        features = new Map();
        for (const f of res.body?.featureInfoList ?? [])
          if (typeof f.featureId === 'string' && typeof f.version === 'number') features.set(f.featureId, f.version);
      } catch (err) {
        return fail(`the server's features are unknown (${(err as Error).message})`, 'check icws.url: GET …/icws/connection/features must answer');
      }
    }
    const icServer = this.session?.icServer ?? new URL(this.config.icws.url).hostname;
    const configuration = features.get('configuration');
    const messaging = features.get('messaging');
    const found = `${version ?? 'version not reported'}; features configuration ${configuration ?? 'absent'}, messaging ${messaging ?? 'absent'}, status ${features.get('status') ?? 'absent'}`;
    if (configuration === undefined) {
      return fail(
        `${found}: no configuration feature`,
        'this server offers no configuration subscriptions: icwatch needs an IC server with ICWS configuration support',
      );
    }
    const warnings = newerPropertyWarnings(this.config.subscription.properties, icServer, configuration);
    const { transport } = this.config.icws;
    if (transport === 'sse' && (messaging ?? 0) < 2) {
      warnings.push(`icws.transport is sse but messaging is ${messaging ?? 'absent'} (server-sent events need 2): icwatch polls instead`);
    }
    if (warnings.length)
      return warn(`${found}; ${warnings.join('; ')}`, 'change subscription.properties (or icws.transport) as said, or upgrade the IC server');
    return pass(`${found}; every property asked for is known to it`);
  }

  /** PUT then DELETE of the users subscription under a scratch id, with the configured ids, properties and rights filter. */
  async subscription(): Promise<CheckResult> {
    const scratchId = `icwatch-doctor-${randomBytes(4).toString('hex')}`;
    let subscription: UsersSubscription;
    try {
      subscription = new UsersSubscription({ ...this.config.subscription, id: scratchId });
    } catch (err) {
      // icwatch checks the body before sending it, as the daemon does: it would stop at start with this.
      return fail(`icwatch refuses the subscription before sending it: ${(err as Error).message}`, 'correct subscription.* as said');
    }
    const { configurationIds, properties, rightsFilter } = subscription.body;
    const what = `${configurationIds.length === 1 && configurationIds[0] === '*' ? 'all users' : `${configurationIds.length} user id(s)`}, ${properties.length} properties, rightsFilter ${rightsFilter}`;
    try {
      await subscription.put(this.connection);
    } catch (err) {
      if (err instanceof IcwsConfigError && err.status === 404) {
        return fail(
          `the server refused the subscription (${said(err)}): ${err.serverMessage}`,
          'remove the missing user id from subscription.configurationIds',
        );
      }
      if (err instanceof IcwsConfigError) {
        return fail(
          `the server refused the subscription (${said(err)}): ${err.serverMessage}`,
          `correct subscription.rightsFilter / properties / configurationIds as the server says (rightsFilter: view, admin, loggedInUser or a right the server lists)`,
        );
      }
      return fail(`PUT of the subscription failed: ${(err as Error).message}`, 'see the message; the daemon would retry this');
    }
    try {
      await subscription.delete(this.connection);
    } catch (err) {
      return warn(`accepted (${what}), but its DELETE failed: ${(err as Error).message}`, 'nothing to do: the subscription ends with the session');
    }
    return pass(`accepted and removed again (${what})`);
  }

  /** The status catalogue (user statuses, PRODUCT §17) in the session. */
  async statuses(): Promise<CheckResult> {
    try {
      const res = await this.connection.request<{ statusMessageList?: { statusId?: unknown }[] }>('GET', '/status/status-messages', {
        route: 'GET status-messages',
        allowStatus: [403, 404],
      });
      if (res.status === 403) {
        return fail(
          `user "${this.config.icws.user}" may not read the status catalogue (403)`,
          'in Interaction Administrator, give the user the right to view status messages (its role or access control), then run doctor again',
        );
      }
      if (res.status === 404) {
        return fail(
          'this server has no status catalogue (GET status/status-messages: 404)',
          'user statuses need an IC server whose ICWS offers the status feature',
        );
      }
      const list = Array.isArray(res.body?.statusMessageList) ? res.body.statusMessageList : [];
      const ids = list.map((m) => m.statusId).filter((id): id is string => typeof id === 'string');
      return pass(
        `${ids.length} statuses in the catalogue (${ids
          .slice(0, 3)
          .map((id) => JSON.stringify(id))
          .join(', ')}${ids.length > 3 ? ', …' : ''})`,
      );
    } catch (err) {
      return fail(`GET status/status-messages failed: ${(err as Error).message}`, 'see the message');
    }
  }

  async logout(): Promise<CheckResult> {
    try {
      await this.connection.disconnect();
      return pass('session closed (DELETE connection)');
    } catch (err) {
      return warn(`DELETE connection failed: ${(err as Error).message}`, 'nothing to do: the server ends idle sessions itself');
    } finally {
      this.session = undefined;
    }
  }

  /** Log out if still logged in (after an error), without a report line. */
  async close(): Promise<void> {
    if (this.session) await this.connection.disconnect().catch(() => undefined);
    this.session = undefined;
  }
}
