/**
 * User properties newer than the first `configuration` feature version, from the "Feature Version configuration N"
 * tags of the vendor's users subscription reference page (docs/icws.md "Feature versions"). A server whose
 * `configuration` feature is older does not know them: asking for one is not an error there, the value simply never
 * arrives, so icwatch warns at start instead of failing.
 *
 * Only top-level user properties are subscribed to: they are in PROPERTY_FEATURE_VERSIONS. acdSocialMedia and
 * acdWhatsApp (configuration 14) are fields inside licenseProperties, not properties of their own: they are modelled
 * as nested (NESTED_FEATURE_VERSIONS), and a subscription to licenseProperties on an older server is told that those
 * fields will be missing from it. The media-type enum values the page also tags (socialDirectMessage 7,
 * socialConversation 8) are values, not fields, and are not listed.
 */
import type { Logger } from '../log/logger.js';

export const PROPERTY_FEATURE_VERSIONS: Readonly<Record<string, number>> = {
  emergencyResponderLocationID: 16,
};

/** Fields inside a top-level property that need a newer `configuration` version than the property itself. */
export const NESTED_FEATURE_VERSIONS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  licenseProperties: { acdSocialMedia: 14, acdWhatsApp: 14 },
};

export interface NewerProperty {
  /** "emergencyResponderLocationID", or "licenseProperties.acdSocialMedia" for a nested field. */
  property: string;
  /** The `configuration` feature version that introduced it. */
  needs: number;
}

/**
 * The requested properties (and nested fields of them) the server cannot know: introduced in a `configuration`
 * version above the server's. `serverVersion` undefined = the server did not list the feature (treated as 1).
 */
export function propertiesNewerThan(properties: readonly string[], serverVersion: number | undefined): NewerProperty[] {
  const version = serverVersion ?? 1;
  const out: NewerProperty[] = [];
  for (const property of properties) {
    const needs = Object.hasOwn(PROPERTY_FEATURE_VERSIONS, property) ? PROPERTY_FEATURE_VERSIONS[property] : undefined;
    if (needs !== undefined && needs > version) out.push({ property, needs });
    const nested = Object.hasOwn(NESTED_FEATURE_VERSIONS, property) ? NESTED_FEATURE_VERSIONS[property]! : {};
    for (const [field, fieldNeeds] of Object.entries(nested)) if (fieldNeeds > version) out.push({ property: `${property}.${field}`, needs: fieldNeeds });
  }
  return out;
}

/** The top-level property holding `field` when `field` is a nested one (e.g. acdWhatsApp → licenseProperties). */
export function parentOfNested(field: string): string | undefined {
  return Object.entries(NESTED_FEATURE_VERSIONS).find(([, fields]) => Object.hasOwn(fields, field))?.[0];
}

/** One warning per requested property (or nested field) the server (`configuration` feature `serverVersion`) will not deliver. */
export function warnNewerProperties(log: Logger, properties: readonly string[], icServer: string, serverVersion: number | undefined): void {
  for (const warning of newerPropertyWarnings(properties, icServer, serverVersion)) log.warn(warning);
}

/** The warnings of warnNewerProperties, as text (`icwatch doctor` prints them). */
export function newerPropertyWarnings(properties: readonly string[], icServer: string, serverVersion: number | undefined): string[] {
  const out: string[] = [];
  for (const p of properties) {
    const parent = parentOfNested(p);
    if (parent)
      out.push(
        `subscription.properties: "${p}" is a field inside ${parent}, not a user property of its own, so it will never be delivered; subscribe to ${parent} instead`,
      );
  }
  for (const p of propertiesNewerThan(properties, serverVersion)) {
    const nested = p.property.includes('.');
    out.push(
      `subscription.properties: "${p.property}" needs the ICWS configuration feature version ${p.needs}; ${icServer} has ${serverVersion ?? 'none'}, so ${nested ? 'that field will be missing from it' : 'it will not be delivered'}`,
    );
  }
  return out;
}
