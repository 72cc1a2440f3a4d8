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
      licenseErrors: [{ licenseErrorType: 2, license: 'I3_ACCESS_ACD_EMAIL' }],
    });
    expect(text).to.include('mailboxMoniker = "x": unknown (99): A value this version of icwatch does not know.');
    expect(text).to.include('License errors (1):');
    expect(text).to.include('I3_ACCESS_ACD_EMAIL: setErrorExceedsThreshold (2): Indicates that a dynamic license being set exceed');
  });

  it('lists each license problem meaning once below the table', () => {
    const problem = { license: 'I3_ACCESS_ACD_EMAIL', licenseErrorType: 1 };
    const text = formatUpdated('Sales', [{ id: 'a', uri: '/a', licenseProblems: [problem] }, { id: 'b', uri: '/b', licenseProblems: [problem] }]);
    expect(text.match(/setWarningExceedsThreshold \(1\): Indicates/g)).to.have.length(1);
  });

  it('says a 500 may have been applied, and names the workgroup on 404', () => {
    expect(formatRefused('Sales', { kind: 'refused', status: 500, errorId: 'error.request.timeout', message: 'The request timed out.' }, 'icwatch')).to.include(
      'the server failed (500 error.request.timeout): The request timed out.\nIt may or may not have applied the update',
    );
    expect(formatRefused('Nope', { kind: 'refused', status: 404, message: 'Not found.' }, 'icwatch')).to.include('Check --workgroup "Nope"');
  });
});
