/**
 * The users subscription (the vendor's reference page; docs/icws.md "Subscription"): its body from the subscription.* keys, checked locally before
 * sending so that a body the server would refuse is never sent, then PUT and DELETE. 400 and 404 on PUT are
 * configuration errors (IcwsConfigError, the server's message shown); 410 comes from the connection as IcwsGoneError.
 */
import type { Config } from '../config/defaults.js';
import type { IcwsConnection } from './connection.js';
import { IcwsConfigError, IcwsError } from './errors.js';

export interface SubscriptionBody {
  configurationIds: string[];
  properties: string[];
  rightsFilter: string;
}

export const PUT_SUBSCRIPTION = 'PUT subscription';

/** view, admin, loggedInUser, or the name of a right: an identifier such as canMonitorQueues (docs/icws.md "Subscription"). */
export function isRightsFilter(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z][A-Za-z0-9]*$/.test(value);
}
export const DELETE_SUBSCRIPTION = 'DELETE subscription';

const invalid = (key: string, message: string) => new IcwsConfigError(0, PUT_SUBSCRIPTION, undefined, message, key);

function checkList(key: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid(
      key,
      `expected a non-empty list of strings (a user id or "*" for configurationIds, a property name or "*" for properties), got ${JSON.stringify(value)}`,
    );
  }
  const bad = value.findIndex((v) => typeof v !== 'string' || v.trim() === '');
  if (bad >= 0) throw invalid(key, `item ${bad} is ${JSON.stringify(value[bad])}: expected a non-empty string`);
  return value as string[];
}

/**
 * The PUT body for `subscription`, validated as the reference page states the rules: all three fields required,
 * lists non-empty, and a wildcard in configurationIds never combined with a wildcard in properties.
 */
export function subscriptionBody(subscription: Config['subscription']): SubscriptionBody {
  if (typeof subscription.id !== 'string' || subscription.id.trim() === '') {
    throw invalid('subscription.id', `expected a non-empty string, got ${JSON.stringify(subscription.id)}`);
  }
  const configurationIds = checkList('subscription.configurationIds', subscription.configurationIds);
  const properties = checkList('subscription.properties', subscription.properties);
  if (configurationIds.includes('*') && properties.includes('*')) {
    throw invalid(
      'subscription.properties and subscription.configurationIds',
      'the wildcard "*" in configurationIds cannot be combined with a wildcard in properties (the server refuses it): list the properties to watch, or list the user ids',
    );
  }
  const rightsFilter = subscription.rightsFilter;
  if (!isRightsFilter(rightsFilter)) {
    throw invalid(
      'subscription.rightsFilter',
      `expected view, admin, loggedInUser or the name of a right (letters and digits, e.g. canMonitorQueues), got ${JSON.stringify(rightsFilter)}`,
    );
  }
  return { configurationIds: [...configurationIds], properties: [...properties], rightsFilter };
}

/** One users subscription of one session: PUT (create or update; the server then sends a full replace) and DELETE. */
export class UsersSubscription {
  readonly body: SubscriptionBody;
  readonly path: string;

  /** Throws IcwsConfigError when the configured subscription is invalid: nothing is sent then. */
  constructor(readonly config: Config['subscription']) {
    this.body = subscriptionBody(config);
    this.path = `/messaging/subscriptions/configuration/users/${encodeURIComponent(config.id)}`;
  }

  async put(connection: IcwsConnection, signal?: AbortSignal): Promise<void> {
    try {
      await connection.request('PUT', this.path, { route: PUT_SUBSCRIPTION, json: this.body, signal });
    } catch (err) {
      if (err instanceof IcwsError && err.status === 400) {
        throw new IcwsConfigError(400, PUT_SUBSCRIPTION, err.errorId, err.serverMessage, 'subscription', err.body);
      }
      if (err instanceof IcwsError && err.status === 404) {
        // The server's message names the missing user id.
        throw new IcwsConfigError(404, PUT_SUBSCRIPTION, err.errorId, err.serverMessage, 'subscription.configurationIds', err.body);
      }
      throw err;
    }
  }

  /** Removes the subscription; true when it existed, false when it was already gone (404). */
  async delete(connection: IcwsConnection, signal?: AbortSignal): Promise<boolean> {
    const res = await connection.request('DELETE', this.path, { route: DELETE_SUBSCRIPTION, allowStatus: [404], signal });
    return res.status !== 404;
  }
}
