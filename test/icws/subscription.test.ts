import { expect } from 'chai';
import { DEFAULTS } from '../../src/config/defaults.js';
import { IcwsConfigError } from '../../src/icws/errors.js';
import { propertiesNewerThan } from '../../src/icws/property-versions.js';
import { subscriptionBody } from '../../src/icws/subscription.js';

const sub = (over: Partial<typeof DEFAULTS.subscription>) => ({ ...DEFAULTS.subscription, ...over });

function refusal(over: Partial<typeof DEFAULTS.subscription>): IcwsConfigError {
  try {
    subscriptionBody(sub(over));
  } catch (err) {
    expect(err).to.be.instanceOf(IcwsConfigError);
    return err as IcwsConfigError;
  }
  throw new Error('expected the subscription to be refused');
}

describe('users subscription, checked locally', () => {
  it('builds the PUT body from subscription.*', () => {
    expect(subscriptionBody(DEFAULTS.subscription)).to.deep.equal({
      configurationIds: ['*'],
      properties: DEFAULTS.subscription.properties,
      rightsFilter: 'view',
    });
  });

  it('refuses both wildcards, naming both keys', () => {
    const err = refusal({ properties: ['*'] });
    expect(err.message).to.include('subscription.properties').and.include('configurationIds').and.include('wildcard');
  });

  it('refuses empty lists, empty items and an empty rightsFilter, naming the key', () => {
    expect(refusal({ configurationIds: [] }).message).to.match(/^subscription\.configurationIds: expected a non-empty list/);
    expect(refusal({ properties: ['extension', ''] }).message).to.match(/^subscription\.properties: item 1/);
    expect(refusal({ rightsFilter: ' ' }).message).to.match(/^subscription\.rightsFilter: expected view, admin/);
    expect(refusal({ rightsFilter: 'view,admin' }).message).to.match(/^subscription\.rightsFilter: .*got "view,admin"/);
  });
});

describe('property feature versions', () => {
  it('names each requested property newer than the server', () => {
    // Top-level properties only; acdSocialMedia and acdWhatsApp are fields inside licenseProperties.
    const props = ['extension', 'emergencyResponderLocationID', 'licenseProperties', 'acdWhatsApp', 'constructor'];
    expect(propertiesNewerThan(props, 14)).to.deep.equal([{ property: 'emergencyResponderLocationID', needs: 16 }]);
    expect(propertiesNewerThan(props, 13)).to.deep.equal([
      { property: 'emergencyResponderLocationID', needs: 16 },
      { property: 'licenseProperties.acdSocialMedia', needs: 14 },
      { property: 'licenseProperties.acdWhatsApp', needs: 14 },
    ]);
    expect(propertiesNewerThan(props, 16)).to.deep.equal([]);
  });
});
