/**
 * The JSON type of the user properties whose type the vendor's users reference page and public captures of real
 * servers show plainly (docs/icws.md "User property shapes"). A usersMessage giving one of them another type is malformed: storing it would put, say, a number
 * where every reader of the mirror expects the extension string. Properties not listed are taken as they come.
 * `null` is always allowed (a cleared property).
 */
export type JsonType = 'string' | 'number' | 'boolean' | 'object' | 'array';

export const PROPERTY_TYPES: Readonly<Record<string, JsonType>> = {
  configurationId: 'object',
  extension: 'string',
  statusText: 'string',
  createdDate: 'string',
  lastModifiedDate: 'string',
  notes: 'string',
  alias: 'string',
  ntDomainUser: 'string',
  outboundAni: 'string',
  mwiAddress: 'string',
  vniStation: 'string',
  lyncLineUri: 'string',
  lyncSipAddress: 'string',
  acdAgentGreetingFile: 'string',
  umDestination: 'string',
  umRemoteOverride: 'string',
  nameSpellingTts: 'string',
  cost: 'number',
  whisperToneLevel: 'number',
  homeSite: 'number',
  excludeFromDirectory: 'boolean',
  faxCapability: 'boolean',
  mwiEnabled: 'boolean',
  pagerActive: 'boolean',
  lyncIntegrationEnabled: 'boolean',
  outlookIntegrationEnabled: 'boolean',
  acdAgentGreeting: 'boolean',
  autoAnswerAcdInteractions: 'boolean',
  autoAnswerNonAcdInteractions: 'boolean',
  emergencyResponderLocationID: 'string',
  clientConfigDateLastModified: 'string',
  mwiMode: 'number',
  lyncOption: 'array',
  statisticsShiftStarts: 'array',
  clientTemplate: 'array',
  workgroups: 'array',
  customAttributes: 'array',
  nameSpellingsAsr: 'array',
  personalInformationProperties: 'object',
  skills: 'object',
  mailboxProperties: 'object',
  securityRights: 'object',
  licenseProperties: 'object',
  // Inheritable properties ({actualValue?, effectiveValue, …}) and ConfigurationId-valued ones are objects.
  roles: 'object',
  preferredLanguage: 'object',
  accessControlGroupAssignment: 'object',
  interactionOfferingTimeout: 'object',
  utilizations: 'object',
  clientConfigurationTemplate: 'object',
  passwordPolicies: 'object',
  accessRights: 'object',
  administrativeRights: 'object',
  clientConfigurationProperties: 'object',
};

/** Own entries only: a property named `constructor` or `__proto__` is not typed by Object.prototype's. */
const EXPECTED_TYPES = new Map(Object.entries(PROPERTY_TYPES));

/** The JSON type a property must have (when not null), or undefined when it is taken as it comes. */
export function expectedTypeOf(name: string): JsonType | undefined {
  return EXPECTED_TYPES.get(name);
}

function typeOf(value: unknown): JsonType | 'null' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as JsonType;
}

/** What is wrong with the first mistyped property of `user`, or undefined. */
export function propertyTypeProblem(user: Record<string, unknown>): string | undefined {
  // Keys, not entries: every user of a full replace is checked, and an entries array per user is garbage.
  for (const name of Object.keys(user)) {
    const value = user[name];
    const expected = expectedTypeOf(name);
    if (!expected || value === null) continue;
    const actual = typeOf(value);
    if (actual !== expected)
      return `${name} is ${actual === 'object' || actual === 'array' ? `an ${actual}` : `a ${actual}`} (${JSON.stringify(value)?.slice(0, 40)}), expected a${expected === 'object' || expected === 'array' ? 'n' : ''} ${expected}`;
  }
  return undefined;
}
