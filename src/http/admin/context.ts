// What the admin routes are given: the directory's writer (never the cached reader: a
// write goes to the backend, whose change feed tells every instance's cache), the
// provider profile the validator checks against, the metrics and the API's settings.
import type { AdminApiSettings } from '../../config/config.js';
import type { DirectoryAdmin } from '../../directory/directory.js';
import type { ProviderProfile } from '../../policy/provider-profile.js';
import type { Metrics } from '../plugins/metrics.js';

export interface AdminContext {
  directory: DirectoryAdmin;
  profile: ProviderProfile;
  metrics: Metrics;
  settings: AdminApiSettings;
}
