/**
 * User properties newer than the first `configuration` feature version, from the "Feature Version configuration N"
 * tags of the users subscription reference page (000_27135b5ba41cc5a9.txt). A server whose `configuration` feature
 * is older does not know them: asking for one is not an error there, the property simply never arrives, so icwatch
 * warns at start instead of failing.
 *
 * The page also tags two media-type enum values (socialDirectMessage 7, socialConversation 8: configuration 14)
 * inside licenseProperties and utilizations; those are values, not properties one subscribes to, so they are not
 * listed here.
 */
import type { Logger } from '../log/logger.js';

export const PROPERTY_FEATURE_VERSIONS: Readonly<Record<string, number>> = {
  emergencyResponderLocationID: 16,
  acdSocialMedia: 14,
  acdWhatsApp: 14,
};

export interface NewerProperty {
  property: string;
  /** The `configuration` feature version that introduced it. */
  needs: number;
}

/**
 * The requested properties the server cannot know: introduced in a `configuration` version above the server's.
 * `serverVersion` undefined = the server did not list the feature (treated as version 1, the oldest).
 */
export function propertiesNewerThan(properties: readonly string[], serverVersion: number | undefined): NewerProperty[] {
  const version = serverVersion ?? 1;
  const out: NewerProperty[] = [];
  for (const property of properties) {
    const needs = Object.hasOwn(PROPERTY_FEATURE_VERSIONS, property) ? PROPERTY_FEATURE_VERSIONS[property] : undefined;
    if (needs !== undefined && needs > version) out.push({ property, needs });
  }
  return out;
}

/** One warning per requested property the server (`configuration` feature `serverVersion`) will not deliver. */
export function warnNewerProperties(log: Logger, properties: readonly string[], icServer: string, serverVersion: number | undefined): void {
  for (const p of propertiesNewerThan(properties, serverVersion)) {
    log.warn(
      `subscription.properties: "${p.property}" needs the ICWS configuration feature version ${p.needs}; ${icServer} has ${serverVersion ?? 'none'}, so it will not be delivered`,
    );
  }
}
