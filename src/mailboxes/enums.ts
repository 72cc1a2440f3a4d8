/**
 * The enum tables of the vendor's monitored-mailboxes reference page (docs/icws.md "Monitored mailboxes") as data, so that what the
 * server refused can be printed by name and meaning rather than as a bare number.
 */

export interface EnumEntry {
  value: number;
  name: string;
  meaning: string;
  /** The `configuration` feature version that introduced the value, where the page gives one. */
  featureVersion?: number;
}

const entry = (value: number, name: string, meaning: string, featureVersion?: number): EnumEntry =>
  featureVersion === undefined ? { value, name, meaning } : { value, name, meaning, featureVersion };

/** validationErrorType: which validator refused a property. The page has no value 8. */
export const VALIDATION_ERROR_TYPES: readonly EnumEntry[] = [
  entry(0, 'unknownValidator', 'Unknown validator.'),
  entry(1, 'uniqueInstanceId', 'The value must be unique across objects of this type.'),
  entry(2, 'existingInstanceId', 'The value must represent a valid ID for a configured instance.'),
  entry(3, 'existingAttributeValue', 'The value must match a configured instance.'),
  entry(4, 'requiredValue', 'The value must be specified.'),
  entry(5, 'range', 'The value must be in the correct range.'),
  entry(6, 'stringLength', 'The value must have the correct number of characters.'),
  entry(7, 'regex', 'The value must be formatted correctly.'),
  entry(9, 'validValues', 'The value is not from the allowed set.'),
  entry(10, 'collectionCount', 'The value must have the correct number of items.'),
  entry(11, 'collectionItemValidator', 'One or more items failed to validate successfully.'),
  entry(12, 'validatorGroup', 'The value is not from the allowed set.'),
  entry(13, 'validFormat', 'The value is not in a valid format.'),
  entry(14, 'uniqueAttributeValue', 'The value must be unique across attributes of this type.'),
  entry(15, 'requiredAttribute', 'The attribute must be specified.'),
  entry(16, 'acgTreeValidator', 'The Acg Tree either could not be verified or found, or the Acg Tree depth is not supported.'),
  entry(17, 'pronunciationValidator', 'The value is not a valid pronunciation format.'),
  entry(18, 'wordValidator', 'The value must be a valid word.'),
  entry(19, 'rangeFloat', 'The value must be in the correct range.'),
  entry(20, 'existingAttendantProfile', 'The value must match a configured attendant profile instance.'),
  entry(21, 'extension', 'The value must not be an existing extension.'),
  entry(22, 'workstationsSharedAppearanceID', 'Unknown validator.'),
  entry(23, 'multipleOf', 'The value is not a valid multiple value.'),
  entry(24, 'invalidCharacters', 'The value contains invalid characters.'),
  entry(25, 'existingExtension', 'The value must be an existing extension.'),
  entry(26, 'existingInstanceIdWithAttributeValue', 'The value must represent a valid ID for a configured instance.'),
  entry(27, 'characterDelimitedValue', 'The value contains invalid characters.'),
  entry(
    28,
    'analyzerKeywordCount',
    'The number of keywords assigned to the keyword set makes the configuration exceed the maximum number of supported keywords.',
  ),
  entry(29, 'workgroupAnalyzerKeywordCount', 'The number of keywords assigned to the workgroup is greater than the maximum number of supported keywords.'),
  entry(30, 'endDateTimeValidator', 'The end date or time of a schedule must be greater than or equal to the start date or time.'),
  entry(31, 'propertyNotApplicable', 'This property is not applicable with the current configuration.'),
  entry(32, 'invalidMailboxFolder', 'The value is not a valid mailbox.'),
  entry(33, 'unsupportedManufacturer', 'The provided phone manufacturer is unsupported.'),
  entry(34, 'unsupportedModel', 'The provided phone model is unsupported.'),
  entry(
    35,
    'audioProtocol',
    'An Audio protocol value of SRTP is only supported when the Registration Group for the configuration object has one or more registered lines with a Transport Protocol of TLS.',
  ),
  entry(
    36,
    'recorderPolicyAnalyzerKeywordCount',
    'The number of keywords assigned to the keyword set makes at least one Recorder Policy exceed the maximum number of supported keywords.',
  ),
  entry(37, 'referenceCount', 'The number of reference to this object is exceeding the maximum limit.', 8),
  entry(38, 'wrapUpStatusTimeout', 'The values of WrapUpStatus or WrapUpTimeout are not valid.', 8),
  entry(39, 'attributeExistence', 'One or more required attributes was not specified and/or one or more required absent attributes was specifed.', 8),
  entry(40, 'otherAttributeValue', 'The otherAttributeValue property is expected to have (or not have) a value.', 8),
  entry(41, 'networkAdapter', 'The network adapter is invalid.', 8),
  entry(42, 'integerComparisonValidator', 'The integer comparison failed validation based on the comparison type selected.', 8),
  entry(43, 'timeZoneValidator', 'The time zone is invalid.', 8),
  entry(44, 'existingLanguageValues', 'The values provided must be languages supported by PureConnect.', 8),
  entry(45, 'characterDelimitedKVPairs', 'The character delimited key-value pairs are invalid.', 8),
  entry(46, 'objectValidationErrorMutuallyExclusive', 'Two configuration values are mutually exclusive.', 10),
];

/** License results: in licenseProblems of a 200 (warnings) and licenseErrors of a 400. */
export const LICENSE_ERROR_TYPES: readonly EnumEntry[] = [
  entry(0, 'setOK', 'Setting the license succeeded. This value is never sent.'),
  entry(
    1,
    'setWarningExceedsThreshold',
    "Indicates that a dynamic license was found with an assignment count that exceeds it's assignable and or concurrent thresholds. As this is only a warning to indicate problems, the license in the request was set successfully.",
  ),
  entry(
    2,
    'setErrorExceedsThreshold',
    "Indicates that a dynamic license being set exceed it's assignable or concurrent thresholds and was not set as a result. This can be returned for any license assigned to a user or station as part of setting it's licenses because they are all checked for problems as part of the operation.",
  ),
  entry(
    3,
    'setWarningMissingQualifiers',
    'Indicates that the ACD media level in the request did not have a corresponding set of ACD media types and the default value(s) for the level were set as a result.',
  ),
];

/** mailboxType of a MonitoredMailbox. */
export const MAILBOX_TYPES: readonly EnumEntry[] = [
  entry(0, 'inbound', 'Inbound mailbox.'),
  entry(1, 'outbound', 'Outbound mailbox.'),
  entry(2, 'outboundAndInbound', 'Outbound and inbound mailbox.'),
];

/** Mailbox types that read an inbound folder (the page: "For non-inbound mailboxes, this must be null"). */
export const INBOUND_MAILBOX_TYPES: ReadonlySet<number> = new Set([0, 2]);

/** The entry for `value`, or a stand-in naming the unknown number (a newer server may send values we do not know). */
export function lookup(table: readonly EnumEntry[], value: unknown): EnumEntry {
  const known = table.find((e) => e.value === value);
  return known ?? { value: typeof value === 'number' ? value : NaN, name: 'unknown', meaning: 'A value this version of icwatch does not know.' };
}

/** The value for a name (exact, case-sensitive as on the page), if any. */
export function valueOf(table: readonly EnumEntry[], name: string): number | undefined {
  return table.find((e) => e.name === name)?.value;
}
