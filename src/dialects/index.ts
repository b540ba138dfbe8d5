// Every client dialect, built once at start-up from the compiled templates and what the
// dialects must know of the deployment (public URL, provider, secret, signer).
import { AUTODISCOVER_PATH, publicUrlFor } from '../links.js';
import { mxLookupDomains, type ProviderProfile } from '../policy/provider-profile.js';
import { autoconfigDialect, type AutoconfigDialect } from './autoconfig.js';
import { autodiscoverJsonDialect, type AutodiscoverJsonDialect } from './autodiscover-json.js';
import { autodiscoverPoxDialect, type AutodiscoverPoxDialect } from './autodiscover-pox.js';
import { paccDialect, type PaccDialect } from './pacc.js';
import { mobileconfigDialect, type MobileconfigDialect, type ProfileSign } from './mobileconfig.js';
import { settingsPageDialect, type SettingsPageDialect } from './settings-page.js';
import type { TemplateSource } from './template.js';

export interface Dialects {
  autoconfig: AutoconfigDialect;
  autodiscoverPox: AutodiscoverPoxDialect;
  autodiscoverJson: AutodiscoverJsonDialect;
  mobileconfig: MobileconfigDialect;
  pacc: PaccDialect;
  settingsPage: SettingsPageDialect;
}

export interface DialectOptions {
  templates: TemplateSource;
  profile: ProviderProfile;
  /** PUBLIC_URL: where clients reach the service. */
  publicUrl: URL;
  /** Keys Apple profile ids. */
  secret: string;
  /** Signs Apple profiles; absent: unsigned. */
  signProfile?: ProfileSign | undefined;
}

export function createDialects(o: DialectOptions): Dialects {
  return {
    autoconfig: autoconfigDialect(o.templates, mxLookupDomains(o.profile).base),
    autodiscoverPox: autodiscoverPoxDialect(o.templates),
    autodiscoverJson: autodiscoverJsonDialect(publicUrlFor(o.publicUrl, AUTODISCOVER_PATH)),
    mobileconfig: mobileconfigDialect(o.secret, o.signProfile),
    pacc: paccDialect(),
    settingsPage: settingsPageDialect(o.templates, o.profile, publicUrlFor(o.publicUrl, '')),
  };
}
