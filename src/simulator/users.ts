/**
 * Generated users with the shapes real servers send (docs/icws.md "User property shapes", from public captures):
 * the same seed gives the same users (dates included), and some users lack some properties, as on a real site.
 * No property newer than the announced `configuration` feature version is served. Fast enough for benchmarks
 * (50,000 users well under a second).
 */
import type { ConfigurationId, User } from '../icws/messages.js';
import { compactIso, Random } from './random.js';

const cid = (kind: string, id: string, displayName = id): ConfigurationId => ({ id, displayName, uri: `/configuration/${kind}/${id}` });

/** Workgroup ids users belong to; the same workgroups carry the simulator's monitored mailboxes. */
export const WORKGROUP_IDS = ['Support', 'Sales', 'Billing', 'Marketing', 'Operations', 'Escalations', 'Returns', 'Partners'] as const;
export const WORKGROUPS: readonly ConfigurationId[] = WORKGROUP_IDS.map((id) => cid('workgroups', id));
export const SKILLS: readonly ConfigurationId[] = [
  'English',
  'Spanish',
  'French',
  'German',
  'Billing',
  'Hardware',
  'Software',
  'Networking',
  'Chat',
  'Email',
].map((id) => cid('skills', id));
export const ROLES: readonly ConfigurationId[] = ['Agent', 'Supervisor', 'Administrator', 'Business User'].map((name) =>
  cid('roles', name.replace(' ', ''), name),
);
export const STATUS_TEXTS = [
  'Available',
  'Available, Follow-me',
  'Available, Forward',
  'Away from desk',
  'At lunch',
  'Do not disturb',
  'In a meeting',
  'On the phone',
  'Gone home',
  'On vacation',
  'Training',
  'Working at home',
] as const;
export const DEPARTMENTS = ['Customer Care', 'Sales', 'Finance', 'Marketing', 'IT', 'Operations', 'Human Resources', 'Logistics'] as const;
export const TITLES = ['Agent', 'Senior Agent', 'Team Lead', 'Supervisor', 'Manager', 'Analyst', 'Engineer', 'Coordinator'] as const;
const GIVEN = [
  'Jane',
  'John',
  'Maria',
  'Ahmed',
  'Li',
  'Fatima',
  'Carlos',
  'Anna',
  'Peter',
  'Sofia',
  'Yuki',
  'Omar',
  'Emma',
  'Lucas',
  'Chloe',
  'Ivan',
  'Priya',
  'Noah',
  'Olga',
  'Mateo',
  'Aisha',
  'David',
  'Elena',
  'Tom',
];
const SURNAMES = [
  'Doe',
  'Smith',
  'Garcia',
  'Khan',
  'Wang',
  'Nguyen',
  'Müller',
  'Rossi',
  'Silva',
  'Kowalski',
  'Tanaka',
  'Haddad',
  'Brown',
  'Martin',
  'Dubois',
  'Petrov',
  'Patel',
  'Johnson',
  'Larsen',
  'Lopez',
  'Okafor',
  'Cohen',
  'Novak',
  'Berg',
];
const RIGHTS = ['canMonitorQueues', 'canCoachCalls', 'canListenInOnCalls', 'canRecordCalls', 'canSetStatus'] as const;
const STATIONS: readonly ConfigurationId[] = Array.from({ length: 20 }, (_, i) => cid('stations', `station${String(i + 1).padStart(3, '0')}`));
/*
 * Nested values that only take a few shapes are built once and shared between users (nothing mutates a stored
 * value in place: changes replace whole properties), which keeps generating 50,000 users cheap.
 */
const RIGHTS_BY_MASK = Array.from({ length: 1 << RIGHTS.length }, (_, mask) =>
  Object.fromEntries(RIGHTS.map((right, bit) => [right, { effectiveValue: (mask & (1 << bit)) !== 0 }])),
);
/** roles is inheritable: agents' role comes from elsewhere (effectiveValue only, as in the captures); supervisors' is their own. */
const ROLE_VALUES = [{ effectiveValue: [ROLES[0]!] }, { actualValue: [ROLES[1]!], effectiveValue: [ROLES[1]!] }];
/** preferredLanguage is a ConfigurationId-like object, not a language tag string. */
const LANGUAGES = [
  { id: 'en-US', displayName: 'English (United States)' },
  { id: 'es', displayName: 'Spanish' },
  { id: 'fr', displayName: 'French' },
  { id: 'de', displayName: 'German' },
];
const LANGUAGE_PICKS = [LANGUAGES[0]!, LANGUAGES[0]!, LANGUAGES[1]!, LANGUAGES[2]!, LANGUAGES[3]!];
const ACCESS_CONTROL_GROUP = { id: 'ACG Root', displayName: 'Root', uri: '/configuration/access-control-groups/ACG%20Root' };
const CLIENT_CONFIGURATION_TEMPLATE = { effectiveValue: cid('client-configuration-templates', 'AgentTemplate') };
const OFFERING_TIMEOUT = { effectiveValue: 30 };
const UTILIZATIONS = { effectiveValue: [1, 2, 3, 4].map((mediaType) => ({ mediaType, utilization: 100, maxAssignable: 1 })) };
const LYNC_OPTION = [4];
const SHIFT_STARTS = [0];
const license = (id: string, displayName: string): ConfigurationId => ({ id, displayName, uri: `/configuration/license-allocations/${id}` });
const ADDITIONAL_LICENSES = [
  [],
  [license('I3_ACCESS_RECORDER_CLIENT', 'Interaction Recorder Client Access')],
  [license('I3_ACCESS_WORKGROUP_SUPERVISOR_PLUGIN', 'Interaction Supervisor Plug-In: Workgroup')],
];

/** licenseProperties as one configuration version serves it: acdSocialMedia and acdWhatsApp live inside it from version 14. */
function licenseShapes(configurationVersion: number): Record<string, unknown>[] {
  return ADDITIONAL_LICENSES.map((additionalLicenses, i) => ({
    additionalLicenses,
    interactionProcessAutomationType: 0,
    licenseActive: true,
    hasClientAccess: true,
    mediaLevel: 1 + (i % 3),
    mediaTypes: [2],
    allocationType: 0,
    ...(configurationVersion >= 14 ? { acdSocialMedia: i === 2, acdWhatsApp: false } : {}),
  }));
}
const LICENSE_SHAPES = new Map<number, Record<string, unknown>[]>();
const licenseFor = (configurationVersion: number, index: number) => {
  let shapes = LICENSE_SHAPES.get(configurationVersion);
  if (!shapes) LICENSE_SHAPES.set(configurationVersion, (shapes = licenseShapes(configurationVersion)));
  return shapes[index % shapes.length]!;
};

export interface GenerateOptions {
  /** The `configuration` feature version served (default 16): newer properties are left out. */
  configurationVersion?: number;
}

/** 2015-01-01: generated created/modified dates fall after it, so they are the same for the same seed. */
const EPOCH_MS = Date.UTC(2015, 0, 1);
const DAY_MS = 86_400_000;

/** First extension given out; extensions are unique (`String(FIRST_EXTENSION + index)`). */
export const FIRST_EXTENSION = 1000;

function asciiId(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}
// Computed once: normalize() per user would dominate generating 50,000 users.
const GIVEN_INITIAL = GIVEN.map((g) => asciiId(g)[0]!);
const SURNAME_ID = SURNAMES.map(asciiId);

/**
 * The user number `index`, drawn from `rng`. `takenIds` keeps ids unique across calls (the churn's adds use it too).
 * `nowMs` dates a user created now (churn); without it the dates are drawn from the seed.
 */
export function generateUser(index: number, rng: Random, takenIds: Set<string>, nowMs?: number, options: GenerateOptions = {}): User {
  const configurationVersion = options.configurationVersion ?? 16;
  const g = rng.int(0, GIVEN.length - 1);
  const sn = rng.int(0, SURNAMES.length - 1);
  const givenName = GIVEN[g]!;
  const surname = SURNAMES[sn]!;
  let id = GIVEN_INITIAL[g]! + SURNAME_ID[sn]!;
  if (takenIds.has(id)) id = `${id}${index}`;
  takenIds.add(id);
  const displayName = `${givenName} ${surname}`;
  const emailAddress = `${id}@example.com`;
  const created = nowMs ?? EPOCH_MS + rng.int(0, 1500) * DAY_MS + rng.int(0, DAY_MS - 1);
  const modified = nowMs ?? created + rng.int(0, 800) * DAY_MS + rng.int(0, DAY_MS - 1);
  const workgroups = rng.sample(WORKGROUPS, rng.int(0, 3));

  const user: User = { configurationId: { id, displayName, uri: `/configuration/users/${id}` } };
  if (!rng.chance(0.04)) user.extension = String(FIRST_EXTENSION + index);
  if (!rng.chance(0.08)) user.statusText = rng.pick(STATUS_TEXTS);
  const pip: Record<string, unknown> = { givenName, surname, emailAddress, departmentName: rng.pick(DEPARTMENTS) };
  if (!rng.chance(0.1)) pip.title = rng.pick(TITLES);
  if (rng.chance(0.6)) {
    pip.phoneNumberOfMobile = { number: `+1317555${String(rng.int(0, 9999)).padStart(4, '0')}`, extension: '', dialExtensionAutomatically: rng.chance(0.2) };
  }
  user.personalInformationProperties = pip;
  user.workgroups = workgroups;
  user.skills = { effectiveValue: rng.sample(SKILLS, rng.int(0, 4)).map((s) => ({ id: s, proficiency: rng.int(1, 100), desireToUse: rng.int(1, 100) })) };
  user.createdDate = compactIso(created);
  user.lastModifiedDate = compactIso(modified);
  if (rng.chance(0.3)) user.alias = `${givenName[0]}. ${surname}`;
  user.cost = rng.int(0, 100);
  user.excludeFromDirectory = rng.chance(0.05);
  user.mailboxProperties = {
    directoryMoniker: `ININ.Mail.ObjectMoniker:<x-inin-mail.ex.ews.directory:/d=example.com/e=${emailAddress}>`,
    emailAddress,
    mailboxMoniker: `ININ.Mail.ObjectMoniker:<x-inin-mail.ex.ews.store:/s=${emailAddress}>`,
    displayName,
    type: 3,
  };
  let mask = 0;
  for (let bit = 0; bit < RIGHTS.length; bit++) if (rng.chance(0.3)) mask |= 1 << bit;
  user.securityRights = RIGHTS_BY_MASK[mask];
  if (rng.chance(0.5))
    user.customAttributes = [
      { name: 'costCenter', value: `CC-${rng.int(100, 999)}` },
      { name: 'building', value: rng.pick(['North', 'South', 'HQ']) },
    ];
  user.roles = ROLE_VALUES[rng.chance(0.1) ? 1 : 0];
  if (rng.chance(0.7)) user.defaultWorkstation = rng.pick(STATIONS);
  // Plain booleans on real servers; agents in a workgroup answer ACD interactions automatically now and then.
  user.autoAnswerAcdInteractions = workgroups.length > 0 && index % 4 === 0;
  user.autoAnswerNonAcdInteractions = false;
  user.preferredLanguage = rng.pick(LANGUAGE_PICKS);
  user.accessControlGroupAssignment = ACCESS_CONTROL_GROUP;
  user.clientConfigurationTemplate = CLIENT_CONFIGURATION_TEMPLATE;
  user.interactionOfferingTimeout = OFFERING_TIMEOUT;
  user.utilizations = UTILIZATIONS;
  user.licenseProperties = licenseFor(configurationVersion, index);
  user.homeSite = 1;
  user.mwiEnabled = false;
  user.mwiMode = 0;
  user.faxCapability = false;
  user.pagerActive = false;
  user.lyncIntegrationEnabled = false;
  user.lyncOption = LYNC_OPTION;
  user.outlookIntegrationEnabled = false;
  user.statisticsShiftStarts = SHIFT_STARTS;
  user.umDestination = 'IC Server';
  if (configurationVersion >= 16 && index % 3 === 0) user.emergencyResponderLocationID = `ERL-${100 + (index % 40)}`;
  user.ntDomainUser = `EXAMPLE\\${id}`;
  user.whisperToneLevel = -25;
  if (rng.chance(0.2)) user.notes = `Generated user ${index}`;
  return user;
}

/** `count` users, the same for the same seed; ids unique, extensions unique. */
export function generateUsers(count: number, seed = 1, options: GenerateOptions = {}): User[] {
  const rng = new Random(seed);
  const taken = new Set<string>();
  const users = new Array<User>(count);
  for (let i = 0; i < count; i++) users[i] = generateUser(i, rng, taken, undefined, options);
  return users;
}
