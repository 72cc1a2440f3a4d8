import { expect } from 'chai';
import { formatRefused, formatRejected, formatUpdated } from '../../src/mailboxes/report.js';

describe('mailboxes: printed results', () => {
  it('prints license errors of a 400 by name and meaning, and survives validator numbers it does not know', () => {
    const text = formatRejected('Sales', {
      kind: 'rejected',
      status: 400,
      errorId: 'error.request.configuration.update',
      message: 'The request has one or more license or validation errors in it.',
      validationErrors: [{ validationErrorType: 99, propertyName: 'mailboxMoniker', propertyValue: 'x' }],
      licenseErrors: [
        {
          licenseErrorType: 2,
          license: { id: 'I3_ACCESS_ACD_EMAIL', displayName: 'Interaction ACD Email', uri: '/configuration/license-allocations/I3_ACCESS_ACD_EMAIL' },
        },
        { licenseErrorType: 2, license: { id: 'I3_ACCESS_ACD_CHAT' } },
        { licenseErrorType: 2, license: 'I3_ACCESS_ACD_SMS' },
      ],
    });
    expect(text).to.include('mailboxMoniker = "x": unknown (99): A value this version of icwatch does not know.');
    expect(text).to.include('License errors (3):');
    // By displayName, else by id; never [object Object].
    expect(text).to.include('  - Interaction ACD Email: setErrorExceedsThreshold (2): Indicates that a dynamic license being set exceed');
    expect(text).to.include('  - I3_ACCESS_ACD_CHAT: setErrorExceedsThreshold (2)');
    expect(text).to.include('  - I3_ACCESS_ACD_SMS: setErrorExceedsThreshold (2)');
    expect(text).not.to.include('[object Object]');
  });

  it('lists each license problem meaning once below the table', () => {
    const problem = { license: { id: 'I3_ACCESS_ACD_EMAIL', displayName: 'Interaction ACD Email' }, licenseErrorType: 1 };
    const text = formatUpdated('Sales', [
      { id: 'a', uri: '/a', licenseProblems: [problem] },
      { id: 'b', uri: '/b', licenseProblems: [problem] },
    ]);
    expect(text.match(/setWarningExceedsThreshold \(1\): Indicates/g)).to.have.length(1);
    expect(text).to.match(/^a\s+\/a\s+Interaction ACD Email setWarningExceedsThreshold \(1\)$/m);
  });

  it('says a 500 may have been applied, and names the workgroup on 404', () => {
    expect(formatRefused('Sales', { kind: 'refused', status: 500, errorId: 'error.request.timeout', message: 'The request timed out.' }, 'icwatch')).to.include(
      'the server failed (500 error.request.timeout): The request timed out.\nIt may or may not have applied the update',
    );
    expect(formatRefused('Nope', { kind: 'refused', status: 404, message: 'Not found.' }, 'icwatch')).to.include('Check --workgroup "Nope"');
  });
});
